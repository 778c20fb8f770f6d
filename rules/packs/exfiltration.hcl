# Incidents 2, 3 and 4: data read in bulk, written to a file and uploaded;
# copies to removable media and cloud folders; uploads to destinations the
# company does not use.

variable "export_bytes_limit" {
  description = "Bytes one person may write to removable, network or cloud-sync locations in an hour."
  default     = 10485760
}

sequence "bulk_read_write_upload" {
  severity    = "critical"
  description = "A bulk database read, then a file write, then an upload of about the same size, by one person on one host."
  tags        = ["T1005", "T1074.001", "T1048"]
  by          = [person, host]
  window      = "30m"

  step "read" {
    when = cond.bulk_read
  }
  step "write" {
    when = kind == "file.write" && file.bytes >= var.min_upload_bytes
  }
  step "upload" {
    when = cond.upload && net.bytes_sent >= steps.write.file.bytes * 0.5 && net.bytes_sent <= steps.write.file.bytes * 2
  }
  summary = "${person} read ${steps.read.db.rows} rows, wrote ${steps.write.file.path} (${steps.write.file.bytes} bytes) and sent ${net.bytes_sent} bytes to ${net.dst_name != "" ? net.dst_name : net.dst_ip}"
}

sequence "bulk_read_removable_or_cloud_write" {
  severity    = "high"
  description = "A bulk database read, then a file written to removable media, a network share or a cloud-sync folder, by one person on one host within a shift, whatever the file's size."
  tags        = ["T1005", "T1052.001", "T1567.002"]
  by          = [person, host]
  window      = "8h"

  step "read" {
    when = cond.rows_read && db.rows >= var.bulk_read_rows
  }
  step "write" {
    when = (kind == "file.write" && (file.removable || file.network || glob(file.path, list.cloud_sync_paths))) || (kind == "file.rename" && glob(file.path, list.cloud_sync_paths))
  }
  summary = "${person} read ${steps.read.db.rows} rows, then wrote ${file.path} (${file.bytes} bytes) to ${file.removable ? "removable media" : file.network ? "a network share" : "a cloud-sync folder"} on ${host}"
}

threshold "removable_or_cloud_write" {
  severity    = "high"
  description = "A person wrote a lot of data to removable media, a network share or a cloud-sync folder."
  tags        = ["T1052.001", "T1567.002"]
  when        = kind == "file.write" && (file.removable || file.network || glob(file.path, list.cloud_sync_paths))
  by          = [person, host]
  sum         = file.bytes
  window      = "1h"
  limit       = var.export_bytes_limit
  cooldown    = "1h"
  summary     = "${person} wrote ${value} bytes to removable, network or cloud-sync locations on ${host} (last: ${file.path})"
}

rule "upload_unapproved_destination" {
  severity    = "high"
  description = "Data sent to a destination outside the allow list."
  tags        = ["T1048", "T1567"]
  when        = cond.upload && !cidrmatch(net.dst_ip, var.allowed_destination_cidrs) && !glob(lower(net.dst_name), var.allowed_destination_names)
  by          = [person, net.dst_ip]
  summary     = "${person} sent ${net.bytes_sent} bytes from ${host} to ${net.dst_name != "" ? net.dst_name : net.dst_ip} (${net.dst_ip}:${net.dst_port})"
}

test "read, write, upload of similar size" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { tables = ["customers"], rows = 50000, command = "SELECT" } },
    { kind = "file.write", offset = "2m", file = { path = "/home/dave/export.csv", bytes = 8000000 } },
    { kind = "net.transfer", offset = "5m", net = { proto = "tcp", dst_ip = "10.1.2.3", dst_port = 443, dst_name = "files.corp.example.com", bytes_sent = 8200000 } },
  ]
  expect "bulk_read_write_upload" {
    count = 1
    group = { person = "dave", host = "ws-1" }
  }
}

test "an upload of a different size is not the file" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", db = { rows = 50000 } },
    { kind = "file.write", file = { path = "/home/dave/export.csv", bytes = 8000000 } },
    { kind = "net.transfer", net = { dst_ip = "10.1.2.3", bytes_sent = 2000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "steps out of order or by another person do not chain" {
  events = [
    { kind = "file.write", process = { login_user = "dave", loginuid = 1004 }, file = { path = "/tmp/x.csv", bytes = 8000000 } },
    { kind = "db.query", process = { login_user = "dave", loginuid = 1004 }, db = { rows = 50000 } },
    { kind = "net.transfer", process = { login_user = "dave", loginuid = 1004 }, net = { dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
    { kind = "file.write", process = { login_user = "erin", loginuid = 1005 }, file = { path = "/tmp/y.csv", bytes = 8000000 } },
    { kind = "net.transfer", process = { login_user = "erin", loginuid = 1005 }, net = { dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
  ]
  expect "bulk_read_write_upload" { count = 0 }
}

test "the sequence must finish within its window" {
  defaults = { process = { login_user = "dave", loginuid = 1004 } }
  events = [
    { kind = "db.query", offset = "0m", db = { rows = 50000 } },
    { kind = "file.write", offset = "10m", file = { path = "/tmp/x.csv", bytes = 8000000 } },
    { kind = "net.transfer", offset = "45m", net = { dst_ip = "10.1.2.3", bytes_sent = 8000000 } },
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
    count = 1
    value = 1100000
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

test "upload to an unknown host" {
  defaults = { kind = "net.transfer", process = { login_user = "gina", loginuid = 1007 } }
  events = [
    { net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, dst_name = "paste.example.net", bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "10.4.4.4", dst_port = 443, bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "198.51.100.7", dst_port = 443, dst_name = "Files.Corp.Example.com", bytes_sent = 5000000 } },
    { net = { proto = "tcp", dst_ip = "203.0.113.9", dst_port = 443, bytes_sent = 1000 } },
    { net = { proto = "tcp", dst_ip = "127.0.0.1", dst_port = 5432, bytes_sent = 9000000, loopback = true } },
  ]
  expect "upload_unapproved_destination" {
    count = 1
    group = { person = "gina", "net.dst_ip" = "203.0.113.9" }
  }
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
