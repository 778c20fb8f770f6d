rule "r" {
  severity = "high"
  when     = kind == "db.query" && startswith(db.rows, "1")
}
