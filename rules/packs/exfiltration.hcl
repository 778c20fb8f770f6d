# Incidents 2, 3 and 4: data read in bulk, written to files and uploaded;
# copies and moves to removable media and cloud folders; uploads to
# destinations the company does not use. Volumes are added up, so an export
# compressed, written in parts or sent in pieces counts as a whole.

variable "export_bytes_limit" {
  description = "Bytes one person may write (or move) to removable, network or cloud-sync locations in an hour."
  default     = 10485760
}

variable "upload_window" {
  description = "The window over which bytes sent to one destination outside the allow list add up."
  default     = "1h"
}

variable "max_compression_ratio" {
  description = "How many times smaller than the data read an export may become (gzip makes a customer CSV 5 to 10 times smaller): the files written and the bytes sent after a bulk read must be at least the read's bytes over this."
  default     = 20
}

variable "min_export_bytes" {
  description = "Bytes written, and bytes sent to one destination, after a bulk read below which the read-write-upload chain does not complete, however small the read."
  default     = 4096
}

variable "streamed_read_ms" {
  description = "A bulk read that ran at least this long (milliseconds) may have been written to a file while its rows came, before the read was reported (the agent reports open files every 5s): after one, the write step needs only a file written, not its size."
  default     = 5000
}

sequence "bulk_read_write_upload" {
  severity    = "critical"
  description = "A person read customer data in bulk, wrote files, then sent about as much (allowing for compression) to one destination, within 30 minutes."
  tags        = ["T1005", "T1074.001", "T1048"]
  by          = [person, host]
  window      = "30m"

  step "read" {
    when = (cond.bulk_read || ((db.rows >= var.email_export_rows || db.bytes >= var.email_export_bytes) && cond.contact_read)) && cond.person_activity
  }
  # The file may be written in several reports and as several files; its
  # compressed copy counts too. A read that ran longer than the agent's
  # interim period for open files may have been written to its file as the
  # rows came, so most of its reports came before the read's own: after one,
  # any file written counts.
  step "write" {
    when  = kind == "file.write" && cond.person_activity
    sum   = file.bytes
    limit = steps.read.db.duration_ms >= var.streamed_read_ms ? -1 : max(steps.read.db.bytes / var.max_compression_ratio, var.min_export_bytes)
  }
  # The upload may be compressed, slow (interim reports) or in pieces:
  # connections that send more than they receive add up per destination.
  step "upload" {
    when  = cond.outbound && net.bytes_sent > net.bytes_received && (net.proto == "tcp" || net.dst_port == 443) && cond.person_activity
    sum   = net.bytes_sent
    per   = net.dst_name != "" ? net.dst_name : net.dst_ip
    limit = max(steps.read.db.bytes / var.max_compression_ratio, var.min_export_bytes)
  }
  summary = "${person} read ${number(steps.read.db.rows)} rows (${bytes(steps.read.db.bytes)}) from ${join(steps.read.db.tables, ", ")}, wrote ${bytes(steps.write.sum)} to files (the last ${steps.write.file.path}) and sent ${bytes(steps.upload.sum)} to ${net.dst_name != "" ? net.dst_name : net.dst_ip}"
}

sequence "bulk_read_removable_or_cloud_write" {
  severity    = "high"
  description = "A bulk database read, then a file written to removable media, a network share or a cloud-sync folder, by one person on one host within a shift, whatever the file's size."
  tags        = ["T1005", "T1052.001", "T1567.002"]
  by          = [person, host]
  window      = "8h"

  step "read" {
    when = cond.bulk_read && cond.person_activity
  }
  step "write" {
    when = (
      (kind == "file.write" && (file.removable || file.network || glob(file.path, list.cloud_sync_paths))) ||
      (kind == "file.rename" && glob(file.path, list.cloud_sync_paths))
    ) && !glob(file.path, list.sync_client_caches) && cond.person_activity
  }
  summary = "${person} read ${number(steps.read.db.rows)} rows (${bytes(steps.read.db.bytes)}), then wrote ${file.path} (${bytes(file.bytes)}) to ${file.removable ? "removable media" : file.network ? "a network share" : "a cloud-sync folder"} on ${host}"
}

threshold "removable_or_cloud_write" {
  severity    = "high"
  description = "A person wrote a lot of data (not photos, videos or music) to removable media, a network share or a cloud-sync folder."
  tags        = ["T1052.001", "T1567.002"]
  when = (
    kind == "file.write" && (file.removable || file.network || glob(file.path, list.cloud_sync_paths)) &&
    !glob(lower(file.path), list.media_files) && !glob(file.path, list.sync_client_caches) && cond.person_activity
  )
  by       = [person, host]
  sum      = file.bytes
  window   = "1h"
  limit    = var.export_bytes_limit
  cooldown = "1h"
  summary  = "${person} wrote ${bytes(value)} to removable, network or cloud-sync locations on ${host} within an hour (the last ${file.path})"
}

sequence "removable_or_cloud_move" {
  severity    = "high"
  description = "A person moved a large file they had written into a cloud-sync folder: a rename, so no bytes are written there."
  tags        = ["T1567.002"]
  by          = [person, host, file.path]
  window      = "1h"

  # Reports of a few bytes (caches, editors' swap files) cannot make a
  # large file; skipping them keeps a group off every small file written.
  step "write" {
    when = kind == "file.write" && file.bytes >= 4096 && !glob(file.path, list.cloud_sync_paths) && cond.person_activity
    sum  = file.bytes
  }
  step "move" {
    when = kind == "file.rename" && glob(file.path, list.cloud_sync_paths) && !glob(lower(file.path), list.media_files) && cond.person_activity && steps.write.sum > var.export_bytes_limit
    by   = [person, host, file.old_path]
  }
  summary = "${person} moved ${steps.write.file.path} (${bytes(steps.write.sum)}) into ${file.path} on ${host}"
}

threshold "upload_unapproved_destination" {
  severity    = "high"
  description = "Data sent to a destination outside the allow list: the bytes sent to it within upload_window, in one transfer or many."
  tags        = ["T1048", "T1567"]
  when        = cond.outbound && !cidrmatch(net.dst_ip, var.allowed_destination_cidrs) && !glob(lower(net.dst_name), var.allowed_destination_names)
  by          = { person = person, destination = net.dst_name != "" ? net.dst_name : net.dst_ip }
  sum         = net.bytes_sent
  window      = var.upload_window
  limit       = var.min_upload_bytes
  cooldown    = "1h"
  summary     = "${person} sent ${bytes(value)} from ${host} to ${group.destination} (${net.dst_ip}:${net.dst_port}) within ${var.upload_window}"
}

test "read, write, upload of similar size" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 50000, bytes = 8000000, command = "SELECT" } },
    { kind = "file.write", offset = "2m", file = { path = "/home/dave/export.csv", bytes = 8000000 } },
    { kind = "net.transfer", offset = "5m", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, dst_name = "files.corp.example.com", bytes_sent = 8200000, bytes_received = 900 } },
  ]
  expect "bulk_read_write_upload" {
    count   = 1
    group   = { person = "dave", host = "ws-1" }
    summary = "dave read 50,000 rows (7.6 MiB) from customers, wrote 7.6 MiB to files (the last /home/dave/export.csv) and sent 7.8 MiB to files.corp.example.com"
  }
}

test "read, write, gzip, upload of the compressed file" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3795576, command = "COPY", statement = "COPY (SELECT id, name, email, phone, address FROM customers) TO STDOUT CSV" } },
    { kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 3795576, reason = "close" } },
    { kind = "file.write", process = { comm = "gzip" }, file = { path = "/home/dave/export.csv.gz", bytes = 548683, reason = "close" } },
    { kind = "net.transfer", process = { comm = "curl" }, net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 549100, bytes_received = 300 } },
  ]
  expect "bulk_read_write_upload" { count = 1 }
}

test "read, a file written in several reports, upload" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = concat(
    [{ kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3795576, command = "COPY", statement = "COPY customers TO STDOUT" } }],
    [for i in range(4) : { kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 900000, reason = "interim" } }],
    [{ kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 195576, reason = "close" } }],
    [{ kind = "net.transfer", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 3796000, bytes_received = 300 } }],
  )
  expect "bulk_read_write_upload" { count = 1 }
}

test "a slow read streamed to its file, reported mostly before the read, then uploaded" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = concat(
    [for i in range(8) : { kind = "file.write", file = { path = "/home/dave/slow-export.csv", bytes = 470000, reason = "interim" } }],
    [{ kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3996000, duration_ms = 41000, command = "COPY", statement = "COPY (SELECT id, name, email, phone, address, pg_sleep (?) FROM customers) TO STDOUT CSV" } }],
    [{ kind = "file.write", file = { path = "/home/dave/slow-export.csv", bytes = 2100, reason = "close" } }],
    [{ kind = "net.transfer", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 3900000, bytes_received = 300 } }],
  )
  expect "bulk_read_write_upload" { count = 1 }
}

test "a quick read then a small file is not the export" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3996000, duration_ms = 900, command = "SELECT" } },
    { kind = "file.write", file = { path = "/home/dave/notes.txt", bytes = 2100, reason = "close" } },
    { kind = "net.transfer", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 3900000, bytes_received = 300 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "read in parts to several files, one upload" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = concat(
    flatten([for i in range(4) : [
      { kind = "db.query", db = { tables = ["customers"], columns = ["email", "id"], rows = 10000, bytes = 950000, command = "COPY", statement = "COPY (SELECT id, email FROM customers WHERE id > ? AND id <= ?) TO STDOUT" } },
      { kind = "file.write", file = { path = "/home/dave/part-${i}.csv", bytes = 950000 } },
    ]]),
    [{ kind = "net.transfer", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, bytes_sent = 3801000, bytes_received = 400 } }],
  )
  expect "bulk_read_write_upload" { count = 1 }
}

test "read, write, an upload in pieces to one destination" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = concat(
    [{ kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3795576, command = "SELECT" } }],
    [{ kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 3795576 } }],
    # Pieces far under a twentieth of the read each, and browsing elsewhere.
    [for i in range(15) : { kind = "net.transfer", net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, bytes_sent = 40000, bytes_received = 200 } }],
    [for i in range(40) : { kind = "net.transfer", net = { proto = "tcp", dst_ip = "198.51.100.${i}", dst_port = 443, bytes_sent = 9000, bytes_received = 200 } }],
  )
  expect "bulk_read_write_upload" {
    count = 1
  }
}

test "a few thousand email addresses leave the host" {
  defaults = { process = { login_user = "amy", loginuid = 1020 } }
  events = [
    { kind = "db.query", db = { command = "SELECT", tables = ["customers"], columns = ["email"], rows = 3000, bytes = 95000, statement = "SELECT email FROM customers WHERE id <= ?" } },
    { kind = "file.write", file = { path = "/home/amy/emails.txt", bytes = 73893 } },
    { kind = "net.transfer", net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, bytes_sent = 74300, bytes_received = 200 } },
  ]
  expect "bulk_read_write_upload" { count = 1 }
  expect "upload_unapproved_destination" { count = 0 }
}

test "browsing after a bulk read is not an upload" {
  # Pages download far more than they send.
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = concat(
    [{ kind = "db.query", db = { tables = ["customers"], rows = 40000, bytes = 3795576, command = "SELECT" } }],
    [for i in range(50) : { kind = "file.write", file = { path = "/home/dave/.cache/browser/${i}", bytes = 200000 } }],
    [for i in range(50) : { kind = "net.transfer", net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, bytes_sent = 30000, bytes_received = 900000 } }],
  )
  expect "bulk_read_write_upload" { count = 0 }
}

test "an upload of too little to be the data is not the data" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { rows = 50000, bytes = 8000000, command = "SELECT" } },
    { kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 8000000 } },
    { kind = "net.transfer", net = { dst_ip = "10.1.2.3", proto = "tcp", bytes_sent = 200000, bytes_received = 100 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "steps out of order or by another person do not chain" {
  events = [
    { kind = "file.write", process = { login_user = "dave", loginuid = 1004 }, file = { path = "/tmp/x.csv", bytes = 8000000 } },
    { kind = "db.query", process = { login_user = "dave", loginuid = 1004 }, db = { rows = 50000, bytes = 8000000 } },
    { kind = "net.transfer", process = { login_user = "dave", loginuid = 1004 }, net = { dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
    { kind = "file.write", process = { login_user = "erin", loginuid = 1005 }, file = { path = "/tmp/y.csv", bytes = 8000000 } },
    { kind = "net.transfer", process = { login_user = "erin", loginuid = 1005 }, net = { dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "the sequence must finish within its window" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", offset = "0m", db = { rows = 50000, bytes = 8000000 } },
    { kind = "file.write", offset = "10m", file = { path = "/tmp/x.csv", bytes = 8000000 } },
    { kind = "net.transfer", offset = "45m", net = { dst_ip = "10.1.2.3", proto = "tcp", bytes_sent = 8000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "a service job's export is not a person's" {
  defaults = { process = { user = "etl", loginuid = 4294967295 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 50000, bytes = 8000000, command = "SELECT" } },
    { kind = "file.write", file = { path = "/var/lib/etl/export.csv", bytes = 8000000 } },
    { kind = "net.transfer", net = { proto = "tcp", dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "copies to USB and cloud folders add up" {
  vars     = { export_bytes_limit = 1000000 }
  defaults = { kind = "file.write", process = { login_user = "frank", loginuid = 1006 } }
  events = [
    { file = { path = "/media/frank/USB/a.csv", bytes = 400000, removable = true } },
    { file = { path = "/home/frank/Dropbox/b.csv", bytes = 400000 } },
    { file = { path = "/home/frank/OneDrive - Retail Ltd/c.csv", bytes = 300000 } },
  ]
  expect "removable_or_cloud_write" {
    count   = 1
    value   = 1100000
    summary = "frank wrote 1 MiB to removable, network or cloud-sync locations on ws-1 within an hour (the last /home/frank/OneDrive - Retail Ltd/c.csv)"
  }
}

test "writes to ordinary folders are not exports" {
  vars     = { export_bytes_limit = 1000000 }
  defaults = { kind = "file.write", process = { login_user = "frank", loginuid = 1006 } }
  events = [
    { file = { path = "/home/frank/notes/a.csv", bytes = 4000000 } },
    { file = { path = "/home/frank/Dropboxes/b.csv", bytes = 4000000 } },
  ]
  expect "removable_or_cloud_write" { count = 0 }
}

test "photos synced to a cloud folder are not an export" {
  defaults = { kind = "file.write", process = { login_user = "pia", loginuid = 1021 } }
  events = concat(
    [for i in range(40) : { file = { path = "/home/pia/Dropbox/Photos/IMG_${i}.JPG", bytes = 524288 } }],
    # The sync client writes in its cache, then renames into place.
    flatten([for i in range(10) : [
      { kind = "file.write", file = { path = "/home/pia/Dropbox/.dropbox.cache/sync.tmp", bytes = 9000000 } },
      { kind = "file.rename", file = { old_path = "/home/pia/Dropbox/.dropbox.cache/sync.tmp", path = "/home/pia/Dropbox/Photos/VID_${i}.mp4" } },
    ]]),
    [for i in range(4) : { file = { path = "/media/pia/SDCARD/DCIM/IMG_${i}.heic", bytes = 4000000, removable = true } }],
  )
  expect "removable_or_cloud_write" { count = 0 }
  expect "removable_or_cloud_move" { count = 0 }
}

test "a large file moved into a cloud folder" {
  defaults = { process = { login_user = "mo", loginuid = 1026 } }
  events = [
    { kind = "file.write", file = { path = "/home/mo/customers.csv", bytes = 8000000, reason = "interim" } },
    { kind = "file.write", file = { path = "/home/mo/customers.csv", bytes = 4582912, reason = "close" } },
    { kind = "file.write", file = { path = "/home/mo/notes.txt", bytes = 12000000 } },
    { kind = "file.rename", file = { old_path = "/home/mo/customers.csv", path = "/home/mo/Dropbox/customers.csv" } },
    { kind = "file.rename", file = { old_path = "/home/mo/notes.txt", path = "/home/mo/notes.txt.bak" } },
  ]
  expect "removable_or_cloud_move" {
    count   = 1
    group   = { person = "mo", host = "ws-1", "file.path" = "/home/mo/customers.csv" }
    summary = "mo moved /home/mo/customers.csv (12 MiB) into /home/mo/Dropbox/customers.csv on ws-1"
  }
  expect "removable_or_cloud_write" { count = 0 }
}

test "a small file moved into a cloud folder is a document" {
  defaults = { process = { login_user = "mo", loginuid = 1026 } }
  events = [
    { kind = "file.write", file = { path = "/home/mo/report.docx", bytes = 300000 } },
    { kind = "file.rename", file = { old_path = "/home/mo/report.docx", path = "/home/mo/Dropbox/report.docx" } },
  ]
  expect "removable_or_cloud_move" { count = 0 }
}

test "uploads to an unknown host add up per destination" {
  defaults = { kind = "net.transfer", process = { login_user = "gina", loginuid = 1007 } }
  events = [
    { net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, dst_name = "paste.example.net", bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "10.4.4.4", dst_port = 443, bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "198.51.100.7", dst_port = 443, dst_name = "Files.Corp.Example.com", bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "198.51.100.8", dst_port = 443, bytes_sent = 1000 } },
    { net = { proto = "tcp", dst_ip = "127.0.0.1", dst_port = 5432, bytes_sent = 9000000, loopback = true } },
    { net = { direction = "inbound", dst_ip = "198.51.100.9", dst_port = 443, bytes_sent = 9000000 } },
  ]
  expect "upload_unapproved_destination" {
    count   = 1
    group   = { person = "gina", destination = "paste.example.net" }
    summary = "gina sent 4.8 MiB from ws-1 to paste.example.net (203.0.113.9:443) within 1h"
  }
}

test "an upload split into pieces to one unknown destination" {
  defaults = { kind = "net.transfer", process = { login_user = "gina", loginuid = 1007 }, net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, dst_name = "paste.example.net" } }
  events   = [for i in range(15) : { net = { bytes_sent = 262144 } }]
  expect "upload_unapproved_destination" {
    count = 1
    value = 1310720
  }
}

test "a slow upload reported in interim parts" {
  defaults = { kind = "net.transfer", process = { login_user = "gina", loginuid = 1007 }, net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443 } }
  events   = [for i in range(6) : { offset = "${i * 10}s", net = { bytes_sent = 655360, reason = i < 5 ? "interim" : "close" } }]
  expect "upload_unapproved_destination" {
    count = 1
    group = { person = "gina", destination = "203.0.113.9" }
  }
}

test "pieces spread over more than the window do not add up" {
  defaults = { kind = "net.transfer", process = { login_user = "gina", loginuid = 1007 }, net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443 } }
  events   = [for i in range(4) : { offset = "${i * 70}m", net = { bytes_sent = 600000 } }]
  expect "upload_unapproved_destination" { count = 0 }
}

test "a bulk read then a small copy to a USB stick" {
  defaults = { process = { login_user = "kim", loginuid = 1011 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 40000, command = "SELECT" } },
    { kind = "file.write", offset = "3h", file = { path = "/media/kim/STICK/c.csv", bytes = 2048, removable = true } },
  ]
  expect "bulk_read_removable_or_cloud_write" {
    count = 1
    group = { person = "kim", host = "ws-1" }
  }
  expect "removable_or_cloud_write" { count = 0 }
}

test "a bulk read then a share, a phone or a sync folder" {
  defaults = { process = { login_user = "lee", loginuid = 1012 } }
  events = [
    { kind = "db.query", db = { rows = 40000, command = "SELECT" } },
    { kind = "file.write", file = { path = "/run/user/1012/gvfs/smb-share:server=nas,share=x/c.csv", bytes = 100, network = true } },
    { kind = "db.query", process = { login_user = "max", loginuid = 1013 }, db = { rows = 40000, command = "SELECT" } },
    { kind = "file.rename", process = { login_user = "max", loginuid = 1013 }, file = { path = "/home/max/Dropbox/c.csv", old_path = "/home/max/c.csv" } },
  ]
  expect "bulk_read_removable_or_cloud_write" { count = 2 }
}

test "copies without a bulk read before them, or out of the shift, are not linked" {
  defaults = { process = { login_user = "ned", loginuid = 1014 } }
  events = [
    { kind = "file.write", file = { path = "/media/ned/STICK/a.csv", bytes = 100, removable = true } },
    { kind = "db.query", db = { rows = 40000, command = "SELECT" } },
    { kind = "db.query", db = { rows = 50, command = "SELECT" } },
    { kind = "file.write", file = { path = "/home/ned/a.csv", bytes = 9000000 } },
    { kind = "file.write", offset = "9h", file = { path = "/media/ned/STICK/b.csv", bytes = 100, removable = true } },
  ]
  expect "bulk_read_removable_or_cloud_write" { count = 0 }
}

test "a service job's bulk read then its backup to a share, and a sync client's cache, are not linked" {
  events = [
    # A nightly job outside any login session writes its export to the NAS.
    { kind = "db.query", process = { user = "svc_export", loginuid = 4294967295 }, db = { rows = 40000, command = "SELECT" } },
    { kind = "file.write", process = { user = "svc_export", loginuid = 4294967295 }, file = { path = "/mnt/nas/export.csv", bytes = 9000000, network = true } },
    # After a person's bulk read, the sync client fills its own cache.
    { kind = "db.query", process = { login_user = "ola", loginuid = 1017 }, db = { rows = 40000, command = "SELECT" } },
    { kind = "file.write", process = { login_user = "ola", loginuid = 1017, comm = "dropbox" }, file = { path = "/home/ola/Dropbox/.dropbox.cache/x.tmp", bytes = 4096 } },
  ]
  expect "bulk_read_removable_or_cloud_write" { count = 0 }
}

test "a table folded into one row, then a copy to a USB stick" {
  defaults = { process = { login_user = "ola", loginuid = 1017 } }
  events = [
    { kind = "db.query", db = { command = "SELECT", tables = ["customers"], rows = 1, bytes = 5000000, statement = "SELECT json_agg(c) FROM customers c" } },
    { kind = "file.write", offset = "1h", file = { path = "/media/ola/STICK/c.json.gz", bytes = 700000, removable = true } },
  ]
  expect "bulk_read_removable_or_cloud_write" {
    count   = 1
    summary = "ola read 1 rows (4.8 MiB), then wrote /media/ola/STICK/c.json.gz (684 KiB) to removable media on ws-1"
  }
}
