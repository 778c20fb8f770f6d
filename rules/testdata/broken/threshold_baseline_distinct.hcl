threshold "t" {
  scope    = "global"
  severity = "high"
  when     = kind == "db.query"
  by       = [site]
  distinct = host
  window   = "1h"
  baseline = "7d"
  limit    = 10
}
