rule "r" {
  severity = "high"
  when     = kind == "db.query" && hour(time, "Mars/Olympus") > 18
}
