# /etc/vigil/agent.hcl: vigil-agent configuration.
# Upgrades keep your edits (a config file). Check it with
#   vigil-agent preflight --config /etc/vigil/agent.hcl
# and restart with: systemctl restart vigil-agent

# The support site (vendor office) this workstation belongs to.
site = "default"

# host defaults to the host name; agent_id to an id generated once and kept
# in state_dir.
# host = "ws-0142"

# Free-form labels carried on every event.
# labels = {
#   vendor = "acme-support"
# }

# Agent id, and the spool of events not yet sent. The systemd unit lets the
# agent write nowhere else.
state_dir = "/var/lib/vigil"

# Rules evaluated on this host: the shipped pack.
rules_dir = "/etc/vigil/rules"

# Where host rules come from: "bundle" runs the signed bundles the collector
# serves (vigil rules publish), "local" the files of rules_dir. Left out, it
# is bundle when the credentials pin a rules_key (vigil enrol writes one),
# else local.
# rules_mode = "bundle"

# Kernel-to-agent ring buffer, MiB (a power of two).
ring_buffer_mib = 8

# Sensors are on unless turned off here.
sensors {
  # process = false
  # file    = false
  # net     = false
  # db      = false
}

file {
  # Paths whose writes are not reported (at most 8). /dev is watched on
  # purpose: /dev/shm is a tmpfs where exports can be staged.
  skip_prefixes = ["/proc", "/sys"]
  # How often long-running writes are reported before the file closes.
  interim = "5s"
}

net {
  include_loopback = false
  interim          = "10s"
}

# Database capture (PostgreSQL and MySQL/MariaDB, plaintext and OpenSSL TLS).
db {
  # Server ports; connections on other ports are recognised by their first bytes.
  ports = [5432, 3306]
  # Server Unix socket paths ("*" for a port number). Connections over any Unix
  # socket are recognised by their first bytes; these are also caught when
  # they opened before the agent started. The default covers Debian and RHEL:
  # socket_paths = ["/var/run/postgresql/.s.PGSQL.*", "/run/postgresql/.s.PGSQL.*",
  #   "/tmp/.s.PGSQL.*", "/var/run/mysqld/mysqld.sock", "/run/mysqld/mysqld.sock",
  #   "/var/lib/mysql/mysql.sock", "/tmp/mysql.sock"]
  # Literal values in statements (and SQL on command lines) are replaced by ?
  # on this host. Turn off only where the law and your customers allow it.
  redact = true
  # Values compared with these columns (WHERE id = 42, email IN (...)) are
  # reported as keyed hashes in db.identifiers, under the name on the left,
  # so rules count distinct customers a person looked up without vigil
  # holding the values. The shipped rules count "customer_id"
  # (customer_identifier in rules/packs/common.hcl); `vigil rules check
  # --agent-config` says when a rule counts a name not listed here. A bare
  # name matches the column in any table, table.column only that table's.
  # Add your schema's names; identifiers = {} turns hashing off.
  identifiers = {
    customer_id = [
      "customer_id", "customerid", "cust_id", "customer_no", "customer_number", "client_id", "shopper_id",
      "account_id", "user_id", "member_id",
      "customers.id", "customer.id", "shoppers.id", "clients.id", "accounts.id", "users.id", "members.id",
      "email", "email_address", "emailaddress", "e_mail", "customer_email", "user_email", "contact_email",
    ]
  }
  # More columns, each reported under its own name.
  # identifier_columns = ["orders.ref"]
  # The key of those hashes comes with the credentials `vigil enrol` writes
  # (deployment_key), the same for every agent of the collector, so hashes
  # match across hosts and sites. key_file overrides it (at least 16 bytes);
  # with neither, each host makes a key of its own in state_dir and hashes
  # do not match across hosts.
  # key_file = "/etc/vigil/deployment.key"
  # Views and synonyms over tables the rules watch, with the base tables they
  # read: a read of the view also reports them in db.tables. The agent does
  # not read the database's catalog, so only views named here are known.
  # views = { customer_directory = ["customers"] }
  # Repeats of one statement on one connection within this window are sent
  # as one event with db.executions and totals (the first run goes at once);
  # "0s" sends every run.
  # fold_window = "1s"
}

# Keep CAP_SYS_ADMIN in the agent after start and attach uprobes itself,
# instead of through its attacher process (which keeps CAP_SYS_ADMIN alone
# and parses no traffic). Off: it is most of root.
# keep_uprobe_attach = false

# Where events go. Without this block the agent refuses to start (check
# with vigil-agent preflight). `vigil enrol` writes the agent's NKey file
# (copy it here with mode 0600) and prints the site, host and agent_id
# lines to set above.
# collector {
#   url   = "tls://collector.soc.example:4222"
#   creds = "/etc/vigil/agent.nk"
#   # spool_dir defaults to <state_dir>/spool
#   # spool_max_mib = 512
#   # Wait up to this long after a send so one message carries many events;
#   # "0s" sends each event at once. Alerts never wait.
#   # linger = "100ms"
# }
