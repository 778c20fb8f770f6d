#!/bin/sh
# vigil-collector postremove (deb postrm, rpm %postun). Alerts and evidence
# in /var/lib/vigil-collector and the user vigil stay even on purge: deleting
# evidence is a decision for a person, not a package manager.
set -u
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "${1:-}" = purge ] && [ -d /var/lib/vigil-collector ]; then
	echo "vigil-collector: kept /var/lib/vigil-collector (alerts and evidence); delete it by hand if intended"
fi
exit 0
