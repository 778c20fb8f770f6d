threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  window   = "5 minutes"
  limit    = 10
}
