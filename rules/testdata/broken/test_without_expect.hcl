rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > 10
}

test "t" {
  events = [{ kind = "db.query", db = { rows = 100 } }]
}
