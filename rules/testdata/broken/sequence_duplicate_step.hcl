sequence "s" {
  severity = "high"
  by       = [person]
  window   = "10m"
  step "a" {
    when = kind == "file.write"
  }
  step "a" {
    when = kind == "net.transfer"
  }
}
