# Incidents 2, 3 and 4: whole tables dumped or exported, and email lists
# pulled in bulk. A dump is what the queries do, whichever program sends
# them: a renamed pg_dump or mysqldump reads tables whole all the same.

variable "email_export_rows" {
  description = "Rows a query returning email addresses or other contact columns must return to count as a mass export."
  default     = 1000
}

variable "email_export_bytes" {
  description = "Bytes a query touching email addresses must return to count as a mass export however few rows carry them (string_agg or GROUP_CONCAT of addresses): about email_export_rows addresses of 30 bytes, with room for a row that holds a long note."
  default     = 65536
}

variable "dump_rows" {
  description = "More rows of one table than this, read whole within 10 minutes, are a dump of it."
  default     = 1000
}

variable "dump_tables" {
  description = "More tables than this, each read whole within 10 minutes, are a dump of the database."
  default     = 5
}

rule "db_dump_tool" {
  severity    = "high"
  description = "A database dump tool was run."
  tags        = ["T1005", "T1213"]
  when        = kind == "process.exec" && (contains(list.dump_tools, process.comm) || endswith(process.exe, ["/pg_dump", "/pg_dumpall", "/mysqldump", "/mariadb-dump"]))
  by          = [person, host]
  summary     = "${person} ran ${process.comm} on ${host}: ${process.cmdline}"
}

threshold "db_table_dump" {
  severity    = "high"
  description = "A table was read whole (COPY of the table, or SELECTs without a WHERE clause), whatever program sent the queries."
  tags        = ["T1005", "T1213"]
  when        = cond.whole_table_read
  by          = { person = person, host = host, table = db.tables }
  sum         = db.rows
  window      = "10m"
  limit       = var.dump_rows
  cooldown    = "1h"
  summary     = "${person} read ${number(value)} rows of ${group.table} whole on ${host}, as database user ${db.user} with ${process.comm}"
}

threshold "db_many_tables_dumped" {
  severity    = "high"
  description = "Many tables were each read whole within minutes: a dump of the database, whatever program sent the queries."
  tags        = ["T1005", "T1213"]
  when        = cond.whole_table_read
  by          = [person, host]
  distinct    = db.tables
  window      = "10m"
  limit       = var.dump_tables
  cooldown    = "1h"
  summary     = "${person} read ${number(value)} tables whole within 10 minutes on ${host} (the last ${join(db.tables, ", ")}), as database user ${db.user} with ${process.comm}"
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
  description = "A query returned email addresses or other contact details in bulk."
  tags        = ["T1213", "T1005"]
  when        = cond.rows_read && (db.rows >= var.email_export_rows || db.bytes >= var.email_export_bytes) && cond.contact_read
  by          = [person]
  summary     = "${person} pulled ${number(db.rows)} rows with email addresses or contact details from ${join(db.tables, ", ")} on ${host}"
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

test "the backup accounts may dump" {
  events = [
    { kind = "process.exec", process = { comm = "pg_dump", login_user = "backup", loginuid = 990 } },
    { kind = "db.query", process = { login_user = "backup", loginuid = 990 }, db = { command = "COPY", rows = 40000, tables = ["public.customers"], statement = "COPY public.customers (id, email) TO stdout" } },
    # The nightly backup as a service of the postgres account.
    { kind = "db.query", process = { user = "postgres", loginuid = 4294967295 }, db = { command = "COPY", rows = 40000, tables = ["public.customers"], statement = "COPY public.customers (id, email) TO stdout" } },
  ]
  expect "db_dump_tool" { count = 0 }
  expect "db_copy_out" { count = 0 }
  expect "db_table_dump" { count = 0 }
}

test "a person becoming postgres is still the person" {
  # sudo -u postgres pg_dump: the login uid stays the person's.
  events = [
    { kind = "db.query", process = { user = "postgres", login_user = "hank", loginuid = 1008, comm = "pg_dump" }, db = { command = "COPY", rows = 40000, tables = ["public.customers"], statement = "COPY public.customers (id, email) TO stdout" } },
  ]
  expect "db_table_dump" {
    group = { person = "hank", host = "ws-1", table = "public.customers" }
  }
}

test "a renamed pg_dump copies a whole table" {
  defaults = { process = { login_user = "ivy", loginuid = 1009, comm = "snapshot" } }
  events = [
    { kind = "process.exec", process = { exe = "/home/ivy/bin/snapshot" } },
    { kind = "db.query", db = { user = "support_agent", command = "SELECT", rows = 1, statement = "SELECT pg_catalog.set_config(?, ?, false)" } },
    { kind = "db.query", db = { user = "support_agent", command = "SELECT", rows = 60, tables = ["pg_catalog.pg_class"], statement = "SELECT c.oid, c.relname FROM pg_catalog.pg_class c" } },
    { kind = "db.query", db = { user = "support_agent", command = "COPY", rows = 40000, tables = ["public.customers"], statement = "COPY public.customers (id, name, email, phone, address) TO stdout" } },
  ]
  expect "db_dump_tool" { count = 0 }
  expect "db_table_dump" {
    value   = 40000
    group   = { person = "ivy", host = "ws-1", table = "public.customers" }
    summary = "ivy read 40,000 rows of public.customers whole on ws-1, as database user support_agent with snapshot"
  }
  expect "db_many_tables_dumped" { count = 0 }
}

test "mysqldump under another name reads every table whole" {
  defaults = { kind = "db.query", process = { login_user = "jon", loginuid = 1022, comm = "exporter" }, db = { engine = "mysql", user = "support_agent", command = "SELECT" } }
  events = concat(
    [{ db = { rows = 40000, tables = ["customers"], statement = "SELECT * FROM `customers`" } }],
    [for t in ["regions", "stores", "products", "suppliers", "carriers", "tax_rates"] : { db = { rows = 40, tables = [t], statement = "SELECT * FROM `${t}`" } }],
  )
  expect "db_table_dump" {
    value = 40000
    group = { person = "jon", host = "ws-1", table = "customers" }
  }
  expect "db_many_tables_dumped" {
    value   = 6
    summary = "jon read 6 tables whole within 10 minutes on ws-1 (the last carriers), as database user support_agent with exporter"
  }
}

test "SELECT INTO OUTFILE and a paged read of a whole table are dumps" {
  defaults = { kind = "db.query", process = { login_user = "kim", loginuid = 1023 }, db = { user = "support_agent", command = "SELECT" } }
  events = [
    { db = { engine = "mysql", rows = 40000, tables = ["customers"], statement = "SELECT id, name, email FROM customers INTO OUTFILE ? FIELDS TERMINATED BY ?" } },
    # Pages of one statement, folded by the agent into one event.
    { db = { rows = 12000, executions = 12, tables = ["orders"], statement = "SELECT * FROM orders ORDER BY id LIMIT ? OFFSET ?" } },
  ]
  expect "db_table_dump" { count = 2 }
  expect "db_copy_out" { count = 1 }
}

test "filtered reads, counts, catalogs and loads are not dumps" {
  defaults = { kind = "db.query", process = { login_user = "lea", loginuid = 1024 }, db = { user = "support_agent", command = "SELECT" } }
  events = [
    { db = { rows = 5000, tables = ["customers"], statement = "SELECT id, name FROM customers WHERE region = ?" } },
    { db = { rows = 1, tables = ["customers"], statement = "SELECT count(*) FROM customers" } },
    { db = { rows = 3, tables = ["regions"], statement = "SELECT region, max(total) FROM regions GROUP BY region" } },
    { db = { rows = 2000, tables = ["pg_catalog.pg_attribute"], statement = "SELECT * FROM pg_catalog.pg_attribute" } },
    { db = { rows = 1500, tables = ["information_schema.columns"], statement = "SELECT * FROM information_schema.columns" } },
    { db = { command = "COPY", rows = 40000, tables = ["staging"], statement = "COPY staging FROM STDIN" } },
    { db = { command = "INSERT", rows = 40000, tables = ["archive", "orders"], statement = "INSERT INTO archive SELECT * FROM orders" } },
    { db = { side = "server", rows = 40000, tables = ["customers"], statement = "SELECT * FROM customers" } },
  ]
  expect "db_table_dump" { count = 0 }
  expect "db_many_tables_dumped" { count = 0 }
}

test "small tables read one by one add up to a dump" {
  defaults = { kind = "db.query", process = { login_user = "max", loginuid = 1025, comm = "psql" }, db = { user = "support_agent", command = "SELECT" } }
  events = [for t in ["regions", "stores", "products", "suppliers", "carriers", "tax_rates", "promotions", "channels"] : {
    db = { rows = 40, tables = [t], statement = "SELECT * FROM ${t}" }
  }]
  expect "db_many_tables_dumped" {
    count = 1
    value = 6
  }
  expect "db_table_dump" { count = 0 }
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
    count   = 2
    group   = { person = "jack" }
    summary = "jack pulled 5,000 rows with email addresses or contact details from customers on ws-1"
  }
}

test "contact details pulled without naming email" {
  defaults = { kind = "db.query", process = { login_user = "jack", loginuid = 1010 }, db = { command = "SELECT", side = "client" } }
  events = [
    # Every column of a customer table, and phone numbers.
    { db = { tables = ["customers"], rows = 3000, statement = "SELECT * FROM customers WHERE region = ?" } },
    { db = { tables = ["customers"], columns = ["mobile", "name"], rows = 3000, statement = "SELECT name, mobile FROM customers WHERE region = ?" } },
    # What was done with the data, not who: a job's pull counts too.
    { process = { user = "mailer", login_user = "", loginuid = 4294967295 }, db = { tables = ["customers"], columns = ["email"], rows = 90000, statement = "SELECT email FROM customers" } },
    { process = { user = "mailer", login_user = "", loginuid = 4294967295 }, db = { tables = ["customers"], columns = ["name"], rows = 90000, statement = "SELECT name FROM customers" } },
  ]
  expect "email_mass_export" { count = 3 }
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

test "a filtered cursor read in pages is no dump, and its contact columns still count" {
  # psql's FETCH_COUNT: the FETCH's text does not show the cursor query's WHERE.
  defaults = { kind = "db.query", process = { login_user = "kim", loginuid = 1011 }, db = { side = "client", command = "FETCH", tables = ["customers"], statement = "FETCH FORWARD 1000 FROM _psql_cursor" } }
  events   = [for i in range(5) : { db = { rows = 1000, result_columns = ["id", "phone"] } }]
  expect "db_table_dump" { count = 0 }
  expect "db_many_tables_dumped" { count = 0 }
  expect "email_mass_export" { count = 5 }
}
