rule "r" {
  severity = "high"
  when     = kind == "process.exit" && exit == 0
}
