# Incidents 1 and 2: database use outside the support shift, shared or
# service accounts used by a person at a workstation, and service jobs that
# read far more than they usually do.

variable "off_shift_queries" {
  description = "Queries a person may run outside the shift within an hour before an alert."
  default     = 20
}

variable "service_spike_min_rows" {
  description = "Rows a service job must read in a day before a jump against its own history counts."
  default     = 100000
}

threshold "db_access_outside_shift" {
  severity    = "medium"
  description = "A person used a database outside shift hours."
  tags        = ["T1078"]
  when = kind == "db.query" && cond.person_activity && (
    !within_hours(time, var.shift_start, var.shift_end, var.timezone) ||
    !contains(var.shift_days, weekday(time, var.timezone))
  )
  by       = [person, host]
  window   = "1h"
  limit    = var.off_shift_queries
  cooldown = "8h"
  summary  = "${person} ran ${number(value)} queries on ${host} outside shift hours (${weekday(time, var.timezone)} ${clock(time, var.timezone)} ${var.timezone})"
}

threshold "service_account_from_workstation" {
  severity    = "high"
  description = "A shared or service database account was used from a support workstation."
  tags        = ["T1078.001", "T1078.003"]
  # A person's login session, not a service running as itself; server-side
  # statements once attributed to their client end (whose process the rules then see).
  when     = (kind == "db.query" || kind == "db.session") && (db.side != "server" || attribution.status == "attributed") && cond.person_activity && glob(lower(db.user), var.service_accounts)
  by       = [person, host, db.user]
  window   = "1m"
  limit    = 0
  cooldown = "8h"
  summary  = "${person} on ${host} used database account ${db.user} on ${db.server}"
}

threshold "service_job_read_spike" {
  severity    = "medium"
  description = "A service job read far more rows in a day than it does on its usual days."
  tags        = ["T1213", "T1078.003"]
  when        = cond.rows_read && cond.service_job
  by          = [person, host]
  sum         = db.rows
  window      = "24h"
  baseline    = "14d"
  factor      = 5
  min_history = "3d"
  limit       = var.service_spike_min_rows
  cooldown    = "24h"
  summary     = "service account ${person} read ${number(value)} rows within a day on ${host}, over 5 times its usual ${number(baseline)}"
}

test "queries at night are flagged" {
  vars     = { off_shift_queries = 2 }
  start    = "2026-01-06T22:30:00Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 1 } }
  events   = [{}, {}, {}, {}]
  expect "db_access_outside_shift" {
    count   = 1
    value   = 3
    summary = "kate ran 3 queries on ws-1 outside shift hours (Tue 22:30 UTC)"
  }
}

test "off-shift times read as a person writes them" {
  # 12:39:24 on a Saturday: the old text said "12.656666666666666h".
  vars     = { off_shift_queries = 1, timezone = "Europe/London" }
  start    = "2026-01-10T12:39:24Z"
  defaults = { kind = "db.query", process = { login_user = "kate", loginuid = 1011 } }
  events   = [{}, { db = { executions = 1200 } }]
  expect "db_access_outside_shift" {
    summary = "kate ran 1,201 queries on ws-1 outside shift hours (Sat 12:39 Europe/London)"
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

test "a service account's nightly job is not a person off shift" {
  # A daemon's job (no login uid) and a cron job (cron gives it the service
  # account's own login uid): neither is judged by the rules about people.
  start    = "2026-01-06T02:00:00Z"
  defaults = { kind = "db.query", db = { rows = 1, user = "svc_bench", side = "client", command = "SELECT" } }
  events = concat(
    [for i in range(30) : { process = { user = "pgbench", loginuid = 4294967295 } }],
    [for i in range(30) : { process = { user = "svc_nightly", login_user = "svc_nightly", loginuid = 998 } }],
  )
  expect "db_access_outside_shift" { count = 0 }
  expect "service_account_from_workstation" { count = 0 }
  expect "service_job_read_spike" { count = 0 }
}

test "service accounts from a workstation" {
  defaults = { kind = "db.query", process = { login_user = "liam", loginuid = 1012 }, db = { side = "client", server = "10.0.0.5:5432" } }
  events = [
    { db = { user = "postgres" } },
    { db = { user = "postgres" } },
    { db = { user = "svc_billing" } },
    { db = { user = "liam" } },
    # sudo -u postgres keeps liam's login uid: still liam at the keyboard.
    { process = { user = "postgres" }, db = { user = "replication" } },
  ]
  expect "service_account_from_workstation" {
    count = 3
  }
}

test "a service job that reads far more than on its usual days" {
  vars     = { service_spike_min_rows = 10000 }
  defaults = { kind = "db.query", process = { user = "etl", loginuid = 4294967295 }, db = { command = "SELECT", tables = ["orders"] } }
  events = concat(
    [for d in range(5) : { offset = "${d * 24}h", db = { rows = 5000 } }],
    [{ offset = "126h", db = { rows = 60000 } }],
  )
  expect "service_job_read_spike" {
    count   = 1
    value   = 60000
    summary = "service account etl read 60,000 rows within a day on ws-1, over 5 times its usual 5,000"
  }
}

test "a service job's usual days and a new job do not alert" {
  vars     = { service_spike_min_rows = 10000 }
  defaults = { kind = "db.query", db = { command = "SELECT", tables = ["orders"] } }
  events = concat(
    [for d in range(6) : { offset = "${d * 24}h", process = { user = "etl", loginuid = 4294967295 }, db = { rows = 20000 } }],
    # A person reading as much is judged by the rules about people.
    [for d in range(5) : { offset = "${d * 24 + 1}h", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 1000 } }],
    [{ offset = "126h", process = { login_user = "kate", loginuid = 1011 }, db = { rows = 60000 } }],
    [{ offset = "126h", process = { user = "svc_new", loginuid = 4294967295 }, db = { rows = 900000 } }],
  )
  expect "service_job_read_spike" { count = 0 }
}
