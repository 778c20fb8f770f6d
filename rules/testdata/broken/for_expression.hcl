rule "r" {
  severity = "high"
  when     = kind == "db.query" && contains([for t in db.tables : lower(t)], "x")
}
