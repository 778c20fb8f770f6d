# Incidents 1 and 2: database use outside the support shift, and shared or
# service accounts used by a person at a workstation.

variable "off_shift_queries" {
  description = "Queries a person may run outside the shift within an hour before an alert."
  default     = 20
}

threshold "db_access_outside_shift" {
  severity    = "medium"
  description = "A person used a database outside shift hours."
  tags        = ["T1078"]
  when = kind == "db.query" && person != "" && (
    !within_hours(time, var.shift_start, var.shift_end, var.timezone) ||
    !contains(var.shift_days, weekday(time, var.timezone))
  )
  by       = [person, host]
  window   = "1h"
  limit    = var.off_shift_queries
  cooldown = "8h"
  summary  = "${person} ran ${value} queries on ${host} outside shift hours (${weekday(time, var.timezone)} ${hour(time, var.timezone)}h ${var.timezone})"
}

threshold "service_account_from_workstation" {
  severity    = "high"
  description = "A shared or service database account was used from a support workstation."
  tags        = ["T1078.001", "T1078.003"]
  # A person's login session (loginuid set), not a service running as itself;
  # server-side statements once attributed to their client end (whose process the rules then see).
  when     = (kind == "db.query" || kind == "db.session") && (db.side != "server" || attribution.status == "attributed") && process.loginuid != 4294967295 && glob(lower(db.user), var.service_accounts)
  by       = [person, host, db.user]
  window   = "1m"
  limit    = 0
  cooldown = "8h"
  summary  = "${person} on ${host} used database account ${db.user} on ${db.server}"
}

test "queries at night are flagged" {
  vars     = { off_shift_queries = 2 }
  start    = "2026-01-06T22:30:00Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 1 } }
  events   = [{}, {}, {}, {}]
  expect "db_access_outside_shift" {
    count = 1
    value = 3
  }
}

test "folded repeats count as every run" {
  # The agent folds repeats of one statement into one event with db.executions.
  vars     = { off_shift_queries = 20 }
  start    = "2026-01-06T22:30:00Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 1 } }
  events   = [{}, { db = { executions = 25, rows = 25 } }]
  expect "db_access_outside_shift" {
    count = 1
    value = 26
  }
}

test "queries during the shift are not flagged" {
  vars     = { off_shift_queries = 2 }
  start    = "2026-01-06T09:30:00Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 1 } }
  events   = [{}, {}, {}, {}, {}]
  expect "db_access_outside_shift" { count = 0 }
}

test "shift hours are in the site's time zone" {
  # 07:30 UTC is 08:30 in Berlin in winter: inside the shift there.
  vars     = { off_shift_queries = 2, timezone = "Europe/Berlin" }
  start    = "2026-01-06T07:30:00Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 } }
  events   = [{}, {}, {}, {}, {}]
  expect "db_access_outside_shift" { count = 0 }
}

test "weekend queries are flagged" {
  vars     = { off_shift_queries = 2 }
  start    = "2026-01-10T11:00:00Z" # a Saturday
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 } }
  events   = [{}, {}, {}]
  expect "db_access_outside_shift" { count = 1 }
}

test "service accounts from a workstation" {
  defaults = { kind = "db.query", process = { login_user = "liam", loginuid = 1012 }, db = { side = "client", server = "10.0.0.5:5432" } }
  events = [
    { db = { user = "postgres" } },
    { db = { user = "postgres" } },
    { db = { user = "svc_billing" } },
    { db = { user = "liam" } },
  ]
  expect "service_account_from_workstation" {
    count = 2
  }
}
