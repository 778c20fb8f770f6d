# /etc/vigil/collector.hcl: how vigil-collector.service runs the collector
# (vigil-collector run --config /etc/vigil/collector.hcl). Upgrades keep your
# edits (a config file). Each setting has a flag of the same meaning
# (vigil-collector run --help names them); a flag given as well wins.
# Restart with: systemctl restart vigil-collector
#
# The service runs as the unprivileged user vigil and may write only
# /var/lib/vigil-collector. Put TLS keys and NATS credentials in
# /etc/vigil/collector-credentials/ (mode 0600, owner vigil).
# Commented-out settings show the default.

# JetStream store, database, enrolled agents (agents/), API tokens.
data_dir = "/var/lib/vigil-collector"

# Correlation rules (scope = "global" rules run here).
rules_dir = "/etc/vigil/collector-rules"

# Host rules shipped to agents: switching to them raises no alert.
# host_rules_dir = ""

# Host rule set hashes agents may switch to without an alert.
# allowed_rule_sets = []

# Print each new alert on standard error (the journal).
# print_alerts = false

# Debug logging.
# verbose = false

# How long a statement read at a database server waits for its
# connection's client end to be reported.
# attribution_grace = "20s"

# How long an agent may run another rule bundle than its site's current one
# (vigil rules publish) before it is an alert.
# bundle_grace = "2m"

nats {
  # The embedded NATS server. Agents on other hosts: "0.0.0.0:4222" with
  # tls_cert and tls_key. Enrol agents (as root or vigil), credentials on
  # stdout: vigil enrol --site SITE --host HOST --out - > HOST.nk
  listen = "127.0.0.1:4222"

  # Require enrolled agent NKeys (embedded server); false is for tests.
  # auth = true

  # Server certificate and key for agents' TLS (embedded), or the client
  # certificate for an external cluster; tls_ca verifies agents' client
  # certificates (embedded) or the cluster (external); tls_verify requires
  # agents' client certificates signed by tls_ca.
  # tls_cert   = "/etc/vigil/collector-credentials/server.pem"
  # tls_key    = "/etc/vigil/collector-credentials/server-key.pem"
  # tls_ca     = "/etc/vigil/collector-credentials/ca.pem"
  # tls_verify = false

  # An external NATS cluster instead of the embedded server, with its
  # credentials file; three nodes take replicas = 3.
  # urls     = ["nats://soc-1:4222", "nats://soc-2:4222", "nats://soc-3:4222"]
  # creds    = "/etc/vigil/collector-credentials/collector.creds"
  # replicas = 1

  # How long JetStream keeps messages, and its duplicate window (the store
  # dedupes beyond it).
  # stream_max_age = "168h"
  # dedupe_window  = "10m"
}

http {
  # The console, API and /metrics; "" turns them off.
  listen = "127.0.0.1:8080"

  # Serve them over HTTPS.
  # tls_cert = "/etc/vigil/collector-credentials/http.pem"
  # tls_key  = "/etc/vigil/collector-credentials/http-key.pem"

  # false serves the API without the web console.
  # console = true
}

ocsf {
  # Alerts as OCSF Detection Findings: appended to a file ("-" for
  # stdout), posted to a webhook signed (X-Vigil-Signature) with the HMAC
  # secret in webhook_secret_file (16 bytes or more), or sent as RFC 5424
  # syslog (tcp://, tls:// or udp://host:port).
  # file                = "/var/log/vigil/ocsf.jsonl"
  # webhook             = "https://siem.example/vigil"
  # webhook_secret_file = "/etc/vigil/collector-credentials/webhook.secret"
  # syslog              = "tls://siem.example:6514"
}

retention {
  # Events no alert cites, and alerts with their evidence and loss records.
  # events = "720h"
  # alerts = "8760h"
}

checkpoint {
  # Sign where the store's hash chain stands this often while it moves (and
  # at shutdown); vigil verify checks the store against the checkpoints.
  # Besides the store and NATS, append each as a JSON line to a file this
  # host cannot rewrite, or hand it to a command on standard input
  # (docs/deploy.md).
  # every   = "1m"
  # file    = "/mnt/audit/vigil-checkpoints.jsonl"
  # command = "logger -n siem.example -T -P 514 -t vigil-checkpoint"
}

correlation {
  # Several collectors on one NATS cluster share the correlation rules'
  # groups in partitions, each partition owned by one live collector at a
  # time (docs/deploy.md, Several collectors). Every collector sets the
  # same partitions; 0 runs every group here, as one collector alone does.
  # collector_id = "soc-a"   # default: the host name
  # partitions   = 16
  # A dead collector's partitions move after lease_ttl; the taker rebuilds
  # their windows from the last replay of correlation inputs.
  # lease_ttl    = "10s"
  # replay       = "24h"
}
