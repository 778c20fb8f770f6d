rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > 10
}

test "t" {
  events = [{ kind = "db.qeury", db = { rows = 100 } }]
  expect "r" { count = 1 }
}
