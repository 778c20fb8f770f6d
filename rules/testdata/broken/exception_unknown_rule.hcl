rule "r" {
  severity = "high"
  when     = kind == "process.exec"
}

exception "backups" {
  rules  = ["db_dump"]
  when   = person == "backup"
  reason = "nightly backups"
}
