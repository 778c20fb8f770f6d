rule "r" {
  severity = "high"
  when     = kind == "net.transfer" && cidrmatch(net.dst_ip, ["10.0.0.0/8", "10.0.0.0/33"])
}
