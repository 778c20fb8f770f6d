rule "r" {
  severity = "high"
  when     = kind == "db.query"
}

threshold "r" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  window   = "1h"
  limit    = 10
}
