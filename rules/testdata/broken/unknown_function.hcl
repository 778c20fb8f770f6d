rule "r" {
  severity = "high"
  when     = kind == "db.query" && contians(db.tables, "customers")
}
