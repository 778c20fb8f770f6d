variable "threshold" {
  default = 1000
}

rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > var.thresold
}
