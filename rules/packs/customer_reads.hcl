# Incident 1 (Instacart): support agents viewed far more customer profiles
# than their role needed. Count rows and distinct customers per person.

variable "max_customer_rows" {
  description = "Customer rows one person may read in a shift."
  default     = 5000
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
