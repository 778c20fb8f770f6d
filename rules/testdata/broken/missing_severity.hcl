rule "r" {
  when = kind == "db.query"
}
