rule "r" {
  severity = "high"
  when     = kind == "file.write" && glob(file.path, "*a*b*c*d*e*f*g*h*i*")
}
