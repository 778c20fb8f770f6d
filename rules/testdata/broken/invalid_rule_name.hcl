rule "2fast" {
  severity = "high"
  when     = kind == "db.query"
}
