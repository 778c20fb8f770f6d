variable "limit" {
  default = 10
}

values {
  limit = "ten"
}

rule "r" {
  severity = "high"
  when     = kind == "db.query" && db.rows > var.limit
}
