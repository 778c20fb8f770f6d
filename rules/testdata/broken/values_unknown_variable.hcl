variable "timezone" {
  default = "UTC"
}

values {
  timezon = "Europe/London"
}

rule "r" {
  severity = "high"
  when     = kind == "db.query" && hour(time, var.timezone) > 18
}
