# Site-specific values used by the default pack. Override them per site in a
# separate file with a values block, e.g.
#
#   values {
#     timezone                  = "Europe/London"
#     allowed_destination_names = ["*.example-retail.com"]
#   }

variable "timezone" {
  description = "Time zone of the support shifts."
  default     = "UTC"
}

variable "shift_start" {
  description = "Start of the working shift, HH:MM in timezone."
  default     = "08:00"
}

variable "shift_end" {
  description = "End of the working shift, HH:MM in timezone."
  default     = "18:00"
}

variable "shift_days" {
  description = "Days with a working shift."
  default     = ["Mon", "Tue", "Wed", "Thu", "Fri"]
}

variable "customer_tables" {
  description = "Tables that hold customer records."
  default     = ["customers", "customer", "shoppers", "users", "accounts", "orders", "addresses"]
}

variable "customer_identifier" {
  description = "The identifier name the agents hash customer ids and emails under in db.identifiers (db.identifiers in agent.hcl)."
  default     = "customer_id"
}

variable "bulk_read_rows" {
  description = "Rows one query must return to count as a bulk read (a db.query folded from repeats of one statement, such as a paginated dump, counts its total)."
  default     = 10000
}

variable "bulk_read_bytes" {
  description = "Bytes of result one query must return to count as a bulk read however few rows carry them: a whole table folded into one row (json_agg, string_agg, GROUP_CONCAT, JSON_ARRAYAGG). As much as min_upload_bytes, so a read that could become an upload the pack counts is a bulk read."
  default     = 1048576
}

variable "min_upload_bytes" {
  description = "Bytes an outbound transfer must send to be judged an upload."
  default     = 1048576
}

variable "allowed_destination_names" {
  description = "Host name patterns the company sends data to."
  default     = ["*.corp.example.com", "*.vigil.internal"]
}

variable "allowed_destination_cidrs" {
  description = "Networks the company sends data to."
  default     = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "::1/128", "fc00::/7"]
}

variable "service_accounts" {
  description = "Glob patterns of shared and service database accounts no person should use."
  default     = ["postgres", "root", "admin", "sa", "replication", "svc_*", "app_*", "*_service", "*_svc"]
}

variable "backup_accounts" {
  description = "People (login users) allowed to run dump tools for backups."
  default     = ["backup"]
}

list "dump_tools" {
  description = "Database dump and bulk export tools."
  items       = ["pg_dump", "pg_dumpall", "mysqldump", "mariadb-dump", "mysqlpump", "mydumper", "mariadb-dump.real"]
}

list "cloud_sync_paths" {
  description = "Folders that sync to cloud storage."
  items = [
    "**/Dropbox/**", "**/Dropbox (*)/**",
    "**/OneDrive/**", "**/OneDrive - */**",
    "**/Google Drive/**", "**/GoogleDrive/**", "/run/user/*/gvfs/google-drive*/**",
    "**/MEGA/**", "**/MEGAsync/**", "**/MEGAsync Downloads/**",
  ]
}

list "email_columns" {
  description = "Column name patterns that hold email addresses."
  items       = ["email", "*_email", "email_*", "*email_address*", "e_mail", "mail"]
}

condition "rows_read" {
  description = "A query a person ran that returned rows: SELECT, WITH, COPY ... TO, or rows read through a cursor (FETCH, MySQL HANDLER ... READ; the agent gives them the tables of the cursor's query), seen on the client side, or on the server side once the collector attributed it to a client end that could not read it (otherwise the server side sees the same query under the server's own user)."
  when = kind == "db.query" && (db.side != "server" || attribution.status == "attributed") && db.rows > 0 && (
    db.command == "SELECT" || db.command == "WITH" || db.command == "FETCH" || db.command == "HANDLER" ||
    (db.command == "COPY" && regex(db.statement, "(?is)\\bTO\\b"))
  )
}

condition "bulk_read" {
  description = "A read of many rows, or of many bytes in few rows (a table folded into one row with json_agg, string_agg and the like)."
  when        = cond.rows_read && (db.rows >= var.bulk_read_rows || db.bytes >= var.bulk_read_bytes)
}

condition "customer_read" {
  description = "A query that reads a customer table."
  when        = cond.rows_read && contains(db.tables, var.customer_tables)
}

condition "upload" {
  description = "Data leaving the host for another machine."
  when        = kind == "net.transfer" && !net.loopback && net.bytes_sent >= var.min_upload_bytes
}

exception "scheduled_backups" {
  rules  = ["db_dump_tool", "db_copy_out"]
  when   = contains(var.backup_accounts, person)
  reason = "The backup account runs pg_dump and COPY for the nightly backups."
}
