rule "r" {
  severity = "high"
  when     = db.rows
}
