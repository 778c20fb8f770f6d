rule "r" {
  severity = "high"
  when     = kind == "file.write" && db.rows > 1000
}
