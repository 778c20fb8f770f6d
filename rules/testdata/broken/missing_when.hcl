rule "r" {
  severity = "high"
}
