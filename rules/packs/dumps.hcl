# Incidents 2, 3 and 4: whole tables dumped or exported, and email lists
# pulled in bulk.

variable "email_export_rows" {
  description = "Rows a query touching email addresses must return to count as a mass export."
  default     = 1000
}

variable "email_export_bytes" {
  description = "Bytes a query touching email addresses must return to count as a mass export however few rows carry them (string_agg or GROUP_CONCAT of addresses): about email_export_rows addresses of 30 bytes, with room for a row that holds a long note."
  default     = 65536
}

rule "db_dump_tool" {
  severity    = "high"
  description = "A database dump tool was run."
  tags        = ["T1005", "T1213"]
  when        = kind == "process.exec" && (contains(list.dump_tools, process.comm) || endswith(process.exe, ["/pg_dump", "/pg_dumpall", "/mysqldump", "/mariadb-dump"]))
  by          = [person, host]
  summary     = "${person} ran ${process.comm} on ${host}: ${process.cmdline}"
}

rule "db_copy_out" {
  severity    = "high"
  description = "A query exported a table with COPY ... TO or SELECT ... INTO OUTFILE."
  tags        = ["T1005", "T1213"]
  # db.command is the statement's first keyword, upper case; testing it
  # first keeps the regular expressions off ordinary queries.
  when = kind == "db.query" && db.side != "server" && (
    (db.command == "COPY" && regex(db.statement, "(?is)\\bTO\\b")) ||
    (db.command == "SELECT" && icontains(db.statement, "outfile") && regex(db.statement, "(?is)\\bINTO\\s+(OUTFILE|DUMPFILE)\\b"))
  )
  by      = [person, db.user]
  summary = "${person} exported data as database user ${db.user} on ${host}: ${db.statement}"
}

rule "email_mass_export" {
  severity    = "high"
  description = "A query returned email addresses in bulk."
  tags        = ["T1213", "T1005"]
  # db.result_columns are the columns the result returned (SELECT *, a
  # view, a cursor's FETCH), whatever the statement's text names.
  when = cond.rows_read && (db.rows >= var.email_export_rows || db.bytes >= var.email_export_bytes) && (
    glob(lower(db.columns), list.email_columns) || glob(lower(db.result_columns), list.email_columns) || icontains(db.statement, "email")
  )
  by      = [person]
  summary = "${person} pulled ${db.rows} rows with email addresses from ${join(db.tables)} on ${host}"
}

test "pg_dump and mysqldump are flagged" {
  defaults = { kind = "process.exec", process = { login_user = "hank", loginuid = 1008 } }
  events = [
    { process = { comm = "pg_dump", exe = "/usr/lib/postgresql/15/bin/pg_dump", cmdline = "pg_dump -t customers shop" } },
    { process = { comm = "mysqldump", exe = "/usr/bin/mysqldump", cmdline = "mysqldump shop customers" } },
    { process = { comm = "mariadb-dump", exe = "/usr/bin/mariadb-dump" } },
    { process = { comm = "psql", exe = "/usr/bin/psql" } },
  ]
  expect "db_dump_tool" {
    count = 3
    group = { person = "hank", host = "ws-1" }
  }
}

test "the backup account may dump" {
  events = [
    { kind = "process.exec", process = { comm = "pg_dump", login_user = "backup", loginuid = 990 } },
    { kind = "db.query", process = { login_user = "backup", loginuid = 990 }, db = { command = "COPY", statement = "COPY public.customers (id, email) TO stdout" } },
  ]
  expect "db_dump_tool" { count = 0 }
  expect "db_copy_out" { count = 0 }
}

test "COPY TO and INTO OUTFILE are flagged, COPY FROM is not" {
  defaults = { kind = "db.query", process = { login_user = "ivy", loginuid = 1009 }, db = { user = "ivy" } }
  events = [
    { db = { command = "COPY", statement = "COPY public.customers (id, email) TO stdout" } },
    { db = { command = "SELECT", statement = "SELECT * FROM customers INTO OUTFILE '/tmp/c.csv'" } },
    { db = { command = "COPY", statement = "COPY staging FROM '/tmp/in.csv'" } },
    { db = { command = "SELECT", statement = "SELECT note FROM tickets WHERE body LIKE ?" } },
  ]
  expect "db_copy_out" { count = 2 }
}

test "bulk email pull" {
  defaults = { kind = "db.query", process = { login_user = "jack", loginuid = 1010 }, db = { command = "SELECT", side = "client" } }
  events = [
    # The same pull seen by the database server on its host counts once, on
    # the client side; a load into a table is no pull.
    { db = { side = "server", tables = ["customers"], columns = ["id", "email"], rows = 5000, statement = "SELECT id, email FROM customers" } },
    { db = { command = "COPY", tables = ["customers"], columns = ["email"], rows = 5000, statement = "COPY customers (email) FROM STDIN" } },
    { db = { tables = ["customers"], columns = ["id", "Email"], rows = 5000, statement = "SELECT id, \"Email\" FROM customers" } },
    { db = { tables = ["newsletter"], rows = 3000, statement = "SELECT contact_email FROM newsletter" } },
    { db = { tables = ["customers"], columns = ["id", "email"], rows = 20, statement = "SELECT id, email FROM customers WHERE id = ?" } },
    { db = { tables = ["orders"], columns = ["id", "total"], rows = 9000, statement = "SELECT id, total FROM orders" } },
  ]
  expect "email_mass_export" {
    count = 2
    group = { person = "jack" }
  }
}

test "email columns returned by SELECT *, a view or a cursor" {
  defaults = { kind = "db.query", process = { login_user = "kim", loginuid = 1011 }, db = { side = "client", rows = 5000 } }
  events = [
    { db = { command = "SELECT", tables = ["customers"], result_columns = ["id", "name", "email"], statement = "SELECT * FROM customers" } },
    { db = { command = "SELECT", tables = ["customer_directory", "customers"], result_columns = ["id", "contact_email"], statement = "SELECT * FROM customer_directory" } },
    { db = { command = "FETCH", tables = ["customers"], result_columns = ["id", "EMAIL"], statement = "FETCH FORWARD 100 FROM _psql_cursor" } },
    { db = { command = "HANDLER", tables = ["customers"], result_columns = ["id", "email"], statement = "HANDLER h READ `PRIMARY` NEXT LIMIT ?" } },
    # What the result returned decides: no email column, no export.
    { db = { command = "SELECT", tables = ["customers"], result_columns = ["id", "name"], statement = "SELECT * FROM customers" } },
  ]
  expect "email_mass_export" { count = 4 }
}

test "email addresses folded into one row" {
  defaults = { kind = "db.query", process = { login_user = "kim", loginuid = 1011 }, db = { side = "client", command = "SELECT", rows = 1 } }
  events = [
    { db = { tables = ["customers"], columns = ["email"], result_columns = ["string_agg"], bytes = 1200000, statement = "SELECT string_agg(email, ?) FROM customers" } },
    { db = { tables = ["customers"], columns = ["email"], result_columns = ["group_concat(email)"], bytes = 900000, statement = "SELECT GROUP_CONCAT(email) FROM customers" } },
    # One customer's record is not a list.
    { db = { tables = ["customers"], columns = ["email", "id"], result_columns = ["email"], bytes = 120, statement = "SELECT email FROM customers WHERE id = ?" } },
  ]
  expect "email_mass_export" { count = 2 }
}
