threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  sum      = db.rows
  window   = "1h"
  limit    = 1000
}
