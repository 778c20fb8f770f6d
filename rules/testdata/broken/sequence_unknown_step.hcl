sequence "s" {
  severity = "high"
  by       = [person]
  window   = "10m"
  step "write" {
    when = kind == "file.write"
  }
  step "upload" {
    when = kind == "net.transfer" && net.bytes_sent > steps.wirte.file.bytes
  }
}
