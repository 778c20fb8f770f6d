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
  # Literal values in statements (and SQL on command lines) are replaced by ?
  # on this host. Turn off only where the law and your customers allow it.
  redact = true
  # Columns whose compared values are reported as keyed hashes, so rules can
  # count distinct customers a person viewed without vigil holding the values.
  # identifier_columns = ["customers.id", "customers.email"]
  # The deployment's secret key for those hashes (at least 16 bytes). Give
  # every agent the same file so hashes match across hosts and sites; without
  # it each host makes a key of its own in state_dir.
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
