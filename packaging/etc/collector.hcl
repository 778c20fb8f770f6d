# /etc/vigil/collector.hcl: vigil-collector configuration.
# Upgrades keep your edits (a config file). The collector runs as the
# unprivileged user vigil and may write only /var/lib/vigil-collector.
# Credentials and TLS keys go in /etc/vigil/collector-credentials/ (mode
# 0700, files 0600, owner vigil).
#
# Every setting has a default; uncomment to change. Run
#   vigil-collector --help
# for the full list.

# data_dir  = "/var/lib/vigil-collector"
# rules_dir = "/etc/vigil/rules"
