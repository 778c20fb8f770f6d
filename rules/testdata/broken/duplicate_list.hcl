list "tools" {
  items = ["a"]
}

list "tools" {
  items = ["b"]
}

rule "r" {
  severity = "high"
  when     = kind == "process.exec" && contains(list.tools, process.comm)
}
