rule "r" {
  severity = "hgh"
  when     = kind == "db.query"
}
