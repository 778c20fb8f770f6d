# Incident 1 (Instacart): support agents viewed far more customer profiles
# than their role needed, and than their peers at the same site. Count rows
# and distinct customers per person against fixed limits on the host, and
# against the site's people in the collector.

variable "max_customer_rows" {
  description = "Customer rows one person may read in a shift."
  default     = 5000
}

variable "max_customer_bytes" {
  description = "Bytes of customer records one person may read in a shift, however few rows carry them (a table folded into one row with json_agg or GROUP_CONCAT): about max_customer_rows rows of 200 bytes."
  default     = 1048576
}

variable "max_distinct_customers" {
  description = "Distinct customers one person may look up in a shift."
  default     = 200
}

variable "peer_baseline" {
  description = "How long the collector learns each site's people: their rows and distinct customers per shift over this period are the peers a person is compared with."
  default     = "14d"
}

variable "peer_factor" {
  description = "How many times the site's median per person and shift a person must read to be far above the peers."
  default     = 5
}

variable "peer_min_people" {
  description = "People at the site, besides the one judged, with history in the baseline before peers are compared."
  default     = 3
}

variable "peer_min_rows" {
  description = "Customer rows in a shift below which no comparison with peers alerts (the floor)."
  default     = 1000
}

variable "peer_min_customers" {
  description = "Distinct customers in a shift below which no comparison with peers alerts (the floor)."
  default     = 60
}

threshold "excessive_customer_rows" {
  severity    = "high"
  description = "One person read more customer rows in a shift than the role needs."
  tags        = ["T1213", "T1005"]
  when        = cond.customer_read && cond.person_activity
  by          = [person, host]
  sum         = db.rows
  window      = "8h"
  limit       = var.max_customer_rows
  cooldown    = "8h"
  summary     = "${person} read ${number(value)} customer rows on ${host} within 8h"
}

threshold "excessive_customer_bytes" {
  severity    = "high"
  description = "One person read more bytes of customer records in a shift than the role needs, in however few rows."
  tags        = ["T1213", "T1005"]
  when        = cond.customer_read && cond.person_activity
  by          = [person, host]
  sum         = db.bytes
  window      = "8h"
  limit       = var.max_customer_bytes
  cooldown    = "8h"
  summary     = "${person} read ${bytes(value)} of customer records on ${host} within 8h (last: ${number(db.rows)} rows of ${join(db.tables, ", ")})"
}

threshold "excessive_distinct_customers" {
  severity    = "high"
  description = "One person looked up more distinct customers in a shift than the role needs."
  tags        = ["T1213"]
  when        = cond.customer_read && cond.person_activity
  by          = [person]
  distinct    = db.identifiers[var.customer_identifier]
  window      = "8h"
  limit       = var.max_distinct_customers
  cooldown    = "8h"
  summary     = "${person} looked up ${number(value)} distinct customers within 8h (last on ${host})"
}

threshold "customer_rows_above_peers" {
  scope       = "global"
  severity    = "medium"
  description = "One person read far more customer rows in a shift than the people at the same site usually do."
  tags        = ["T1213", "T1005"]
  when        = cond.customer_read && cond.person_activity
  by          = [site, person]
  peers       = [site]
  sum         = db.rows
  window      = "8h"
  baseline    = var.peer_baseline
  factor      = var.peer_factor
  min_peers   = var.peer_min_people
  limit       = var.peer_min_rows
  cooldown    = "8h"
  summary     = "${person} read ${number(value)} customer rows at ${site} within 8h; people there usually read ${number(baseline)} in a shift"
}

threshold "distinct_customers_above_peers" {
  scope       = "global"
  severity    = "medium"
  description = "One person looked up far more distinct customers in a shift than the people at the same site usually do."
  tags        = ["T1213"]
  when        = cond.customer_read && cond.person_activity
  by          = [site, person]
  peers       = [site]
  distinct    = db.identifiers[var.customer_identifier]
  window      = "8h"
  baseline    = var.peer_baseline
  factor      = var.peer_factor
  min_peers   = var.peer_min_people
  limit       = var.peer_min_customers
  cooldown    = "8h"
  summary     = "${person} looked up ${number(value)} distinct customers at ${site} within 8h; people there usually look up ${number(baseline)} in a shift"
}

test "many small reads add up" {
  vars     = { max_customer_rows = 100 }
  defaults = { kind = "db.query", process = { login_user = "alice", loginuid = 1001 }, db = { engine = "postgresql", tables = ["customers"], command = "SELECT" } }
  events   = [for i in range(11) : { db = { rows = 10 } }]
  expect "excessive_customer_rows" {
    count   = 1
    value   = 110
    group   = { person = "alice", host = "ws-1" }
    summary = "alice read 110 customer rows on ws-1 within 8h"
  }
}

test "reads of other tables and other people do not add up" {
  vars     = { max_customer_rows = 100 }
  defaults = { kind = "db.query", db = { engine = "postgresql", command = "SELECT", rows = 60 } }
  events = [
    { process = { login_user = "alice", loginuid = 1001 }, db = { tables = ["customers"] } },
    { process = { login_user = "bob", loginuid = 1002 }, db = { tables = ["customers"] } },
    { process = { login_user = "alice", loginuid = 1001 }, db = { tables = ["products"] } },
  ]
  expect "excessive_customer_rows" { count = 0 }
}

test "reads spread over more than a shift do not add up" {
  vars     = { max_customer_rows = 100 }
  defaults = { kind = "db.query", process = { login_user = "alice", loginuid = 1001 }, db = { command = "SELECT", tables = ["customers"], rows = 60 } }
  events   = [{ offset = "0h" }, { offset = "9h" }]
  expect "excessive_customer_rows" { count = 0 }
}

test "a service job's reads are not a person's" {
  vars     = { max_customer_rows = 100, max_distinct_customers = 5 }
  defaults = { kind = "db.query", db = { command = "SELECT", tables = ["customers"], rows = 60 } }
  events = [for i in range(10) : {
    process = i % 2 == 0 ? { user = "crm_sync", loginuid = 4294967295, login_user = "" } : { user = "svc_crm", login_user = "svc_crm", loginuid = 997 }
    db      = { identifiers = { customer_id = ["h${i}"] } }
  }]
  expect "excessive_customer_rows" { count = 0 }
  expect "excessive_distinct_customers" { count = 0 }
}

test "one person looks up many customers" {
  vars     = { max_distinct_customers = 20 }
  defaults = { kind = "db.query", process = { login_user = "carol", loginuid = 1003 }, db = { command = "SELECT", tables = ["customers"], rows = 1 } }
  # 25 lookups, of which 21 distinct customers.
  events = [for i in range(25) : { db = { identifiers = { customer_id = ["h${i % 21}"] } } }]
  expect "excessive_distinct_customers" {
    count = 1
    value = 21
    group = { person = "carol" }
  }
}

test "the same customers looked up again do not count twice" {
  vars     = { max_distinct_customers = 20 }
  defaults = { kind = "db.query", process = { login_user = "carol", loginuid = 1003 }, db = { command = "SELECT", tables = ["customers"], rows = 1 } }
  events   = [for i in range(100) : { db = { identifiers = { customer_id = ["h${i % 5}"] } } }]
  expect "excessive_distinct_customers" { count = 0 }
}

test "a person reads far more customer rows than the site's people" {
  # Three days of four people reading 150 rows a shift, then a newcomer
  # reads 2,400: under the fixed limit, sixteen times the peers.
  defaults = { kind = "db.query", site = "leeds", db = { command = "SELECT", tables = ["customers"] } }
  events = concat(
    flatten([for d in range(9) : [for p in ["ann", "bob", "cat", "dan"] : { offset = "${d * 8}h", process = { login_user = p, loginuid = 1100 }, db = { rows = 150 } }]]),
    [{ offset = "73h", process = { login_user = "eve", loginuid = 1105 }, db = { rows = 2400 } }],
  )
  expect "customer_rows_above_peers" {
    count   = 1
    value   = 2400
    group   = { site = "leeds", person = "eve" }
    summary = "eve read 2,400 customer rows at leeds within 8h; people there usually read 150 in a shift"
  }
  expect "excessive_customer_rows" { count = 0 }
}

test "a site whose people all read a lot, and a site without peers, do not alert" {
  defaults = { kind = "db.query", db = { command = "SELECT", tables = ["customers"] } }
  events = concat(
    flatten([for d in range(9) : [for p in ["ann", "bob", "cat", "dan"] : { site = "manila", offset = "${d * 8}h", process = { login_user = p, loginuid = 1100 }, db = { rows = 1500 } }]]),
    [{ site = "manila", offset = "73h", process = { login_user = "eve", loginuid = 1105 }, db = { rows = 4000 } }],
    [{ site = "leeds", offset = "73h", process = { login_user = "fay", loginuid = 1106 }, db = { rows = 4000 } }],
  )
  expect "customer_rows_above_peers" { count = 0 }
}

test "a person looks up far more distinct customers than the site's people" {
  defaults = { kind = "db.query", site = "leeds", db = { command = "SELECT", tables = ["customers"], rows = 1 } }
  events = concat(
    flatten([for d in range(9) : flatten([for p in ["ann", "bob", "cat", "dan"] : [for c in range(10) : {
      offset  = "${d * 8}h${c}m"
      process = { login_user = p, loginuid = 1100 }
      db      = { identifiers = { customer_id = ["${p}-${d}-${c}"] } }
    }]])]),
    [for c in range(70) : { offset = "73h${c}m", process = { login_user = "eve", loginuid = 1105 }, db = { identifiers = { customer_id = ["eve-${c}"] } } }],
  )
  expect "distinct_customers_above_peers" {
    count = 1
    value = 61
    group = { site = "leeds", person = "eve" }
  }
  expect "excessive_distinct_customers" { count = 0 }
}

# The variants below are written differently and read the same customers.
# Spellings of the table (public.customers, "Customers", `shop`.`customers`)
# reach the rules as customers already; a view configured in agent.hcl
# (db.views) adds its base tables.

test "reads through a view count as reads of its base table" {
  vars     = { max_customer_rows = 100 }
  defaults = { kind = "db.query", process = { login_user = "alice", loginuid = 1001 }, db = { command = "SELECT", rows = 60 } }
  events = [
    { db = { tables = ["customer_directory", "customers"] } },
    { db = { tables = ["customers"] } },
  ]
  expect "excessive_customer_rows" {
    count = 1
    value = 120
  }
}

test "rows fetched through a cursor add up" {
  vars     = { max_customer_rows = 250 }
  defaults = { kind = "db.query", process = { login_user = "lena", loginuid = 1012 }, db = { tables = ["customers"], rows = 100 } }
  # psql's FETCH_COUNT: DECLARE (no rows), then FETCH after FETCH; MySQL's
  # HANDLER reads alike.
  events = [
    { db = { command = "DECLARE", rows = 0 } },
    { db = { command = "FETCH" } },
    { db = { command = "FETCH" } },
    { db = { command = "HANDLER" } },
  ]
  expect "excessive_customer_rows" {
    count = 1
    value = 300
  }
}

test "a whole table folded into one row is still read" {
  defaults = { kind = "db.query", process = { login_user = "omar", loginuid = 1015 }, db = { command = "SELECT", rows = 1 } }
  events = [
    { db = { tables = ["products"], bytes = 3000000, statement = "SELECT json_agg(p) FROM products p" } },
    { db = { tables = ["customers"], bytes = 400, statement = "SELECT json_agg(c) FROM customers c WHERE id = ?" } },
    { db = { tables = ["customers"], bytes = 5000000, statement = "SELECT json_agg(c) FROM customers c" } },
  ]
  expect "excessive_customer_bytes" {
    count = 1
    value = 5000400
    group = { person = "omar", host = "ws-1" }
  }
  expect "excessive_customer_rows" { count = 0 }
}

test "a folded read, written and uploaded, is the read-write-upload chain" {
  defaults = { process = { login_user = "omar", loginuid = 1015 } }
  events = [
    { kind = "db.query", db = { command = "SELECT", tables = ["customers"], rows = 1, bytes = 5000000, statement = "SELECT json_agg(c) FROM customers c" } },
    { kind = "file.write", offset = "1m", file = { path = "/home/omar/c.json", bytes = 4900000 } },
    { kind = "net.transfer", offset = "2m", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 5000000 } },
  ]
  expect "bulk_read_write_upload" { count = 1 }
}

test "one small row is no bulk read" {
  defaults = { process = { login_user = "omar", loginuid = 1015 } }
  events = [
    { kind = "db.query", db = { command = "SELECT", tables = ["customers"], rows = 1, bytes = 400 } },
    { kind = "file.write", offset = "1m", file = { path = "/home/omar/c.json", bytes = 4900000 } },
    { kind = "net.transfer", offset = "2m", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 5000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "a service job's folded reads are not a person's bytes" {
  defaults = { kind = "db.query", process = { user = "svc_report", loginuid = 4294967295 }, db = { command = "SELECT", tables = ["customers"], rows = 1, bytes = 5000000 } }
  events   = [{}, {}]
  expect "excessive_customer_bytes" { count = 0 }
}
