# Incident 1 (Instacart): support agents viewed far more customer profiles
# than their role needed. Count rows and distinct customers per person.

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

threshold "excessive_customer_rows" {
  severity    = "high"
  description = "One person read more customer rows in a shift than the role needs."
  tags        = ["T1213", "T1005"]
  when        = cond.customer_read
  by          = [person, host]
  sum         = db.rows
  window      = "8h"
  limit       = var.max_customer_rows
  cooldown    = "8h"
  summary     = "${person} read ${value} customer rows on ${host} within 8h"
}

threshold "excessive_customer_bytes" {
  severity    = "high"
  description = "One person read more bytes of customer records in a shift than the role needs, in however few rows."
  tags        = ["T1213", "T1005"]
  when        = cond.customer_read
  by          = [person, host]
  sum         = db.bytes
  window      = "8h"
  limit       = var.max_customer_bytes
  cooldown    = "8h"
  summary     = "${person} read ${value} bytes of customer records on ${host} within 8h (last: ${db.rows} rows of ${join(db.tables)})"
}

threshold "excessive_distinct_customers" {
  severity    = "high"
  description = "One person looked up more distinct customers in a shift than the role needs."
  tags        = ["T1213"]
  when        = cond.customer_read
  by          = [person]
  distinct    = db.identifiers[var.customer_identifier]
  window      = "8h"
  limit       = var.max_distinct_customers
  cooldown    = "8h"
  summary     = "${person} looked up ${value} distinct customers within 8h (last on ${host})"
}

test "many small reads add up" {
  vars     = { max_customer_rows = 100 }
  defaults = { kind = "db.query", process = { login_user = "alice", loginuid = 1001 }, db = { engine = "postgresql", tables = ["customers"], command = "SELECT" } }
  events   = [for i in range(11) : { db = { rows = 10 } }]
  expect "excessive_customer_rows" {
    count = 1
    value = 110
    group = { person = "alice", host = "ws-1" }
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
