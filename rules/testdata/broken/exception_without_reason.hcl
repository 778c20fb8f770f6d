rule "r" {
  severity = "high"
  when     = kind == "process.exec"
}

exception "backups" {
  rules = ["r"]
  when  = person == "backup"
}
