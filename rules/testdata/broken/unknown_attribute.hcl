rule "r" {
  severity = "high"
  whne     = kind == "db.query"
}
