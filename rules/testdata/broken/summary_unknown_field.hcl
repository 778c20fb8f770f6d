rule "r" {
  severity = "high"
  when     = kind == "db.query"
  summary  = "${person} read ${db.row} rows"
}
