rule "r" {
  severity = "high"
  when     = kind == 
}
