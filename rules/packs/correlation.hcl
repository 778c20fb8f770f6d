# Correlation rules run in the collector over every site's events and the
# hosts' alerts (scope = "global").

variable "max_hosts_per_customer" {
  description = "Hosts from which the same customer's records may be read in a day."
  default     = 3
}

variable "site_spike_min_rows" {
  description = "Rows a site must read in an hour before a jump against its baseline counts."
  default     = 10000
}

threshold "person_at_two_sites" {
  scope       = "global"
  severity    = "high"
  description = "One person was active at two sites within an hour."
  tags        = ["T1078"]
  when        = contains(["db.query", "db.session", "file.write", "net.transfer", "process.exec"], kind) && person != ""
  by          = [person]
  distinct    = site
  window      = "1h"
  limit       = 1
  cooldown    = "8h"
  summary     = "${person} was active at ${value} sites within an hour (latest ${site}, ${host})"
}

threshold "db_account_at_two_sites" {
  scope       = "global"
  severity    = "high"
  description = "One database account was used from two sites within an hour."
  tags        = ["T1078"]
  when        = (kind == "db.query" || kind == "db.session") && db.user != ""
  by          = { account = db.user }
  distinct    = site
  window      = "1h"
  limit       = 1
  cooldown    = "8h"
  summary     = "database account ${db.user} was used from ${value} sites within an hour (latest ${site}, ${host})"
}

threshold "site_read_volume_spike" {
  scope       = "global"
  severity    = "medium"
  description = "A site read far more rows in an hour than its own baseline."
  tags        = ["T1213"]
  # A server's copy of statements the client end reported itself counts once.
  when        = kind == "db.query" && attribution.status != "duplicate"
  by          = [site]
  sum         = db.rows
  window      = "1h"
  baseline    = "7d"
  factor      = 5
  min_history = "3h"
  limit       = var.site_spike_min_rows
  cooldown    = "1h"
  summary     = "site ${site} read ${value} rows in an hour, over 5 times its usual hourly volume"
}

threshold "customer_read_from_many_hosts" {
  scope       = "global"
  severity    = "high"
  description = "The same customer's records were read from many hosts within a day."
  tags        = ["T1213"]
  when        = kind == "db.query"
  by          = { customer = db.identifiers[var.customer_identifier] }
  distinct    = host
  window      = "24h"
  limit       = var.max_hosts_per_customer
  cooldown    = "24h"
  summary     = "customer ${group.customer} was read from ${value} hosts within a day (latest ${host} at ${site})"
}

test "one person at two sites" {
  defaults = { kind = "db.query", process = { login_user = "mona", loginuid = 1013 } }
  events = [
    { site = "leeds", host = "ws-a", offset = "0m" },
    { site = "leeds", host = "ws-a", offset = "10m" },
    { site = "manila", host = "ws-b", offset = "40m" },
  ]
  expect "person_at_two_sites" {
    count = 1
    value = 2
    group = { person = "mona" }
  }
}

test "two sites hours apart are not at once" {
  defaults = { kind = "db.query", process = { login_user = "mona", loginuid = 1013 } }
  events = [
    { site = "leeds", host = "ws-a", offset = "0m" },
    { site = "manila", host = "ws-b", offset = "3h" },
  ]
  expect "person_at_two_sites" { count = 0 }
}

test "one database account from two sites" {
  defaults = { kind = "db.query" }
  events = [
    { site = "leeds", process = { login_user = "nia", loginuid = 1014 }, db = { user = "support_ro" } },
    { site = "manila", process = { login_user = "omar", loginuid = 1015 }, db = { user = "support_ro" } },
  ]
  expect "db_account_at_two_sites" {
    count = 1
    group = { account = "support_ro" }
  }
  expect "person_at_two_sites" { count = 0 }
}

test "a site's reads jump against its baseline" {
  vars     = { site_spike_min_rows = 1000 }
  defaults = { kind = "db.query", site = "leeds", process = { login_user = "pat", loginuid = 1016 } }
  events = concat(
    [for h in range(6) : { offset = "${h}h", db = { rows = 200 } }],
    [{ offset = "6h30m", db = { rows = 3000 } }],
  )
  expect "site_read_volume_spike" {
    count = 1
    value = 3000
    group = { site = "leeds" }
  }
}

test "steady volume and a site without history do not alert" {
  vars     = { site_spike_min_rows = 1000 }
  defaults = { kind = "db.query", process = { login_user = "pat", loginuid = 1016 } }
  events = concat(
    [for h in range(6) : { site = "leeds", offset = "${h}h", db = { rows = 2000 } }],
    [{ site = "leeds", offset = "6h30m", db = { rows = 2500 } }],
    [{ site = "manila", offset = "6h31m", db = { rows = 50000 } }],
  )
  expect "site_read_volume_spike" { count = 0 }
}

test "the same customer read from many hosts" {
  defaults = { kind = "db.query", site = "leeds", db = { tables = ["customers"], rows = 1 } }
  events = [for i in range(4) : {
    host    = "ws-${i}"
    process = { login_user = "user${i}", loginuid = 2000 + i }
    db      = { identifiers = { customer_id = ["hash-A", "hash-${i}"] } }
  }]
  expect "customer_read_from_many_hosts" {
    count = 1
    value = 4
    group = { customer = "hash-A" }
  }
}

threshold "person_alerts_on_many_hosts" {
  scope       = "global"
  severity    = "high"
  description = "Host alerts about one person came from several hosts within a day."
  tags        = ["T1078"]
  when        = kind == "alert" && alert.scope == "host" && person != ""
  by          = [person]
  distinct    = host
  window      = "24h"
  limit       = 1
  cooldown    = "24h"
  summary     = "alerts about ${person} came from ${value} hosts within a day (latest ${alert.rule} on ${host})"
}

test "alerts about one person from two hosts" {
  defaults = { kind = "process.exec", process = { comm = "pg_dump", login_user = "quinn", loginuid = 1017 } }
  events = [
    { host = "ws-a", offset = "0m" },
    { host = "ws-b", offset = "20m" },
  ]
  expect "db_dump_tool" { count = 2 }
  expect "person_alerts_on_many_hosts" {
    count = 1
    value = 2
    group = { person = "quinn" }
  }
}
