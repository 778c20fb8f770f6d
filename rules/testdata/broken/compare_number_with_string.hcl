rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > "1000"
}
