rule "r" {
  severity = "high"
  when     = kind == "process.exec" && proces.comm == "pg_dump"
}
