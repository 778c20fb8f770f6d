sequence "s" {
  severity = "high"
  by       = [person]
  window   = "10m"
  step "read" {
    when = kind == "db.query"
  }
}
