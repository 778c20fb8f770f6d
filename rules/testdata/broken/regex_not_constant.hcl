rule "r" {
  severity = "high"
  when     = kind == "db.query" && regex(db.statement, db.user)
}
