sequence "s" {
  severity = "high"
  by       = [person]
  window   = "10m"
  step "read" {
    when = kind == "db.query"
  }
  step "write" {
    when = kind == "file.write"
    by   = [steps.read.person]
  }
}
