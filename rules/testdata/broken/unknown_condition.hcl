condition "customer_read" {
  when = kind == "db.query"
}

rule "r" {
  severity = "high"
  when     = cond.customer_reads
}
