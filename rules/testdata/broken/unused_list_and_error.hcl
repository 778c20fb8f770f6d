list "unused" {
  items = ["a"]
}

rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > "x"
}
