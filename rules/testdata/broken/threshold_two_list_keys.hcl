threshold "t" {
  severity = "high"
  when     = kind == "db.query"
  by       = [db.tables, db.columns]
  window   = "1h"
  limit    = 10
}
