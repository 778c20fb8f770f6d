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
  # Paths whose writes are not reported (at most 8).
  skip_prefixes = ["/proc", "/sys", "/dev"]
  # How often long-running writes are reported before the file closes.
  interim = "5s"
}

net {
  include_loopback = false
  interim          = "10s"
}

# Where events go. Without this block the agent prints JSON lines on stdout
# (the journal). `vigil enrol` writes the credentials file, mode 0600.
# collector {
#   url   = "tls://collector.soc.example:4222"
#   creds = "/etc/vigil/agent.creds"
#   # spool_dir defaults to <state_dir>/spool
# }
