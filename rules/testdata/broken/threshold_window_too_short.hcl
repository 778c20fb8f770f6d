threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  window   = "10ms"
  limit    = 10
}
