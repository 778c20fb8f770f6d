sequence "s" {
  severity = "high"
  by       = [person]
  window   = "10m"
  step "write" {
    when = kind == "file.write"
  }
  step "upload" {
    when = steps.write.file.bytes > 0
  }
}
