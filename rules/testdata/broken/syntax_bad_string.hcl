rule "r" {
  severity = "high
  when = kind == "db.query"
}
