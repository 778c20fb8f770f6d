list "ports" {
  items = [22, 3306]
}

rule "r" {
  severity = "high"
  when     = kind == "net.transfer"
}
