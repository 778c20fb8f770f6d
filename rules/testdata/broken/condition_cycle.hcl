condition "a" {
  when = kind == "db.query" && cond.b
}

condition "b" {
  when = cond.a
}

rule "r" {
  severity = "high"
  when     = cond.a
}
