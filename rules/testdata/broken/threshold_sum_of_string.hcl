threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  sum      = db.user
  window   = "1h"
  limit    = 10
}
