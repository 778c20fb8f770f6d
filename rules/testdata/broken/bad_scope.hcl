rule "r" {
  scope    = "glocal"
  severity = "high"
  when     = kind == "db.query"
}
