rule "r" {
  severity = "high"
  when     = kind == "db.query" && within_hours(time, "25:00", "18:00", "UTC")
}
