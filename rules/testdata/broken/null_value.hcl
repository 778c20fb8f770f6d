rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.user == null
}
