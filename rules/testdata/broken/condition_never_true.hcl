rule "r" {
  severity = "high"
  when     = kind == "file.write" && kind == "db.query"
}
