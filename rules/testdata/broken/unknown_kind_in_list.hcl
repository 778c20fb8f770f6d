rule "r" {
  severity = "high"
  when     = contains(["file.write", "net.transfr"], kind)
}
