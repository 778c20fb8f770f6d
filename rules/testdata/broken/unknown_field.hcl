rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rowz > 1000
}
