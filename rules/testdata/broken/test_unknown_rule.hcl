rule "r" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}

test "t" {
  events = [{ kind = "process.exec", process = { comm = "pg_dump" } }]
  expect "pg_dump" { count = 1 }
}
