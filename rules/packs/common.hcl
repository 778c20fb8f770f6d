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
  description = "Bytes sent to one destination outside the allow list within upload_window above which the sending is an upload."
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

variable "service_users" {
  description = "Glob patterns of the host accounts that run jobs rather than people: their work is judged by the service rules, not the rules about people, even when a scheduler such as cron gives it the account's own login uid."
  default     = ["svc_*", "svc-*", "*_svc", "*-svc", "postgres", "mysql", "backup", "nobody", "www-data", "daemon"]
}

variable "backup_accounts" {
  description = "Accounts (a person's login user, or the user a service runs as) allowed to dump databases for backups."
  default     = ["backup", "postgres", "mysql"]
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

list "sync_client_caches" {
  description = "Where sync clients keep files they are still downloading or uploading, inside the synced folders: not synced themselves."
  items       = ["**/.dropbox.cache/**", "**/.dropbox/**", "**/.tmp.drivedownload/**", "**/.tmp.driveupload/**"]
}

list "media_files" {
  description = "Photos, videos and music (lower-case path patterns): what people copy to removable media and cloud folders every day."
  items = [
    "**/*.jpg", "**/*.jpeg", "**/*.png", "**/*.gif", "**/*.heic", "**/*.heif", "**/*.webp", "**/*.raw", "**/*.cr2",
    "**/*.nef", "**/*.arw", "**/*.dng", "**/*.mp4", "**/*.mov", "**/*.m4v", "**/*.avi", "**/*.mkv", "**/*.mp3",
    "**/*.m4a", "**/*.flac", "**/*.wav",
  ]
}

list "email_columns" {
  description = "Column name patterns that hold email addresses."
  items       = ["email", "*_email", "email_*", "*email_address*", "e_mail", "mail", "*.email", "*.*_email", "*.email_*"]
}

list "contact_columns" {
  description = "Column name patterns, besides email, that identify or reach a person."
  items = [
    "phone", "*_phone", "phone_*", "mobile", "*.phone", "*.*_phone", "*.mobile", "ssn", "*.ssn", "national_id", "*.national_id",
    "passport*", "*.passport*", "*licence*", "*license*", "date_of_birth", "*.date_of_birth", "dob", "*.dob",
  ]
}

list "catalog_tables" {
  description = "System catalog tables (lower case): database tools read them whole all the time."
  items       = ["pg_*", "pg_catalog.*", "information_schema.*", "mysql.*", "performance_schema.*", "sys.*"]
}

condition "person_activity" {
  description = "Done by a person at the keyboard: a process of a login session (loginuid set) whose login is not a service account."
  when        = process.loginuid != 4294967295 && person != "" && !glob(person, var.service_users)
}

condition "service_job" {
  description = "Done by a job: a process outside any login session, or of a service account's own session (cron gives its jobs one)."
  when        = person != "" && (process.loginuid == 4294967295 || glob(person, var.service_users))
}

condition "rows_read" {
  description = "A query that returned rows: SELECT, WITH, COPY ... TO, or rows read through a cursor (FETCH, MySQL HANDLER ... READ; the agent gives them the tables of the cursor's query), seen on the client side, or on the server side once the collector attributed it to a client end that could not read it (otherwise the server side sees the same query under the server's own user)."
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

condition "contact_read" {
  description = "A query that returns email addresses or other columns that identify or reach a person, or every column of a customer table."
  # db.result_columns are the columns the result returned (SELECT *, a view,
  # a cursor's FETCH), whatever the statement's text names; when the agent
  # saw them, they decide what SELECT * returned.
  when = cond.rows_read && (
    glob(lower(db.columns), list.email_columns) || glob(lower(db.columns), list.contact_columns) ||
    glob(lower(db.result_columns), list.email_columns) || glob(lower(db.result_columns), list.contact_columns) ||
    icontains(db.statement, "email") ||
    (len(db.result_columns) == 0 && contains(db.tables, var.customer_tables) && regex(db.statement, "(?is)^SELECT\\s+(DISTINCT\\s+)?([a-z_][a-z0-9_]*\\.)?\\*"))
  )
}

condition "whole_table_read" {
  description = "A query that reads tables whole: COPY of a table, or a SELECT (or COPY of one) without a WHERE clause that does not just count or add up."
  # The substring tests keep the regular expressions off most statements. A
  # FETCH's text does not show the cursor query's WHERE clause, so cursor
  # reads are left to the rules that count rows.
  when = cond.rows_read && db.command != "FETCH" && (
    (db.command == "COPY" && regex(db.statement, "(?is)^COPY\\s+[^\\s(]+(\\s*\\([^)]*\\))?\\s+TO\\b")) ||
    (
      !(icontains(db.statement, "where") && regex(db.statement, "(?i)\\bWHERE\\b")) &&
      !(contains(db.statement, "(") && regex(db.statement, "(?i)\\b(count|sum|avg|min|max)\\s*\\("))
    )
  ) && !glob(lower(db.tables), list.catalog_tables)
}

condition "outbound" {
  description = "Bytes sent from this host to another machine."
  when        = kind == "net.transfer" && !net.loopback && net.direction != "inbound" && net.bytes_sent > 0
}

exception "scheduled_backups" {
  rules  = ["db_dump_tool", "db_copy_out", "db_table_dump", "db_many_tables_dumped"]
  when   = glob(person, var.backup_accounts)
  reason = "The backup accounts run pg_dump, mysqldump and COPY for the nightly backups."
}
