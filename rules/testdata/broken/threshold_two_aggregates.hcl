threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  sum      = db.rows
  distinct = db.user
  window   = "1h"
  limit    = 1000
}
