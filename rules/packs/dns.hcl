# Data carried out in the names of DNS queries (a tunnel): the names leave
# through the site's resolvers even where nothing else may leave the host.

variable "dns_long_label" {
  description = "Length from which a label of a looked-up name counts as long: tunnels fill labels with encoded data up to the 63-byte limit, while names people use are words."
  default     = 24
}

variable "dns_long_subdomain" {
  description = "Length from which the part of a name below its registered domain counts as long, however it is split into labels."
  default     = 48
}

variable "dns_tunnel_names" {
  description = "Distinct long names under one registered domain one person may look up in 10 minutes."
  default     = 60
}

list "dns_resolvers" {
  description = "Resolver daemons: they forward everyone's queries, which are judged where they were asked."
  items       = ["systemd-resolve", "systemd-resolved", "dnsmasq", "unbound", "named", "pdns_recursor", "kresd", "coredns", "nscd"]
}

threshold "dns_tunnel" {
  severity    = "high"
  description = "Many distinct long names looked up under one registered domain in a short time: data sent out in DNS queries."
  tags        = ["T1071.004", "T1048.003"]
  when        = kind == "dns.query" && !contains(list.dns_resolvers, process.comm) && (dns.longest_label >= var.dns_long_label || len(dns.subdomain) >= var.dns_long_subdomain)
  by          = [person, dns.domain]
  distinct    = dns.name
  window      = "10m"
  limit       = var.dns_tunnel_names
  cooldown    = "1h"
  summary     = "${person} looked up ${value} distinct long names under ${dns.domain} within 10 minutes on ${host} (last: ${dns.type} ${dns.name})"
}

test "a file sent out in TXT queries" {
  defaults = { kind = "dns.query", process = { login_user = "omar", loginuid = 1015, comm = "dig" } }
  events = [for i in range(300) : {
    dns = { name = format("%038d.t.exfil.example", i), type = "TXT", domain = "exfil.example", subdomain = format("%038d.t", i), longest_label = 38 }
  }]
  expect "dns_tunnel" {
    count = 1
    value = 61
    group = { person = "omar", "dns.domain" = "exfil.example" }
  }
}

test "data split into short labels still makes long names" {
  defaults = { kind = "dns.query", process = { login_user = "omar", loginuid = 1015 } }
  events = [for i in range(100) : {
    dns = { name = format("%016d.abcdefghijklmnop.qrstuvwxyzabcdef.exfil.example", i), type = "A", domain = "exfil.example", subdomain = format("%016d.abcdefghijklmnop.qrstuvwxyzabcdef", i), longest_label = 16 }
  }]
  expect "dns_tunnel" { count = 1 }
}

test "browsing, ad frames, the same long name again, and the resolver's own queries" {
  defaults = { kind = "dns.query", process = { login_user = "pia", loginuid = 1016, comm = "firefox" } }
  events = concat(
    [for n in ["www", "mail", "docs", "fonts", "static", "api", "login", "cdn"] : { dns = { name = "${n}.example.com", type = "A", domain = "example.com", subdomain = n, longest_label = 5 } }],
    [for i in range(40) : { dns = { name = format("%032x.safeframe.adsyndication.example", i), type = "A", domain = "adsyndication.example", subdomain = format("%032x.safeframe", i), longest_label = 32 } }],
    [for i in range(200) : { dns = { name = "k8s-ingress-prod-0123456789abcdef.elb.example", type = "A", domain = "elb.example", subdomain = "k8s-ingress-prod-0123456789abcdef", longest_label = 33 } }],
    [for i in range(300) : {
      process = { comm = "systemd-resolve", user = "systemd-resolve", loginuid = 4294967295, login_user = "" },
      dns     = { name = format("%038d.t.exfil.example", i), type = "TXT", domain = "exfil.example", subdomain = format("%038d.t", i), longest_label = 38 }
    }],
  )
  expect "dns_tunnel" { count = 0 }
}
