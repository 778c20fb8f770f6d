list "dump_tools" {
  items = ["pg_dump"]
}

rule "r" {
  severity = "high"
  when     = kind == "process.exec" && contains(list.dump_tool, process.comm)
}
