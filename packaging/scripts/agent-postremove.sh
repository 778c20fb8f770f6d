#!/bin/sh
# vigil-agent postremove (deb postrm, rpm %postun). Config stays on remove;
# deb purge also deletes the state (agent id and unsent spool).
set -u
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "${1:-}" = purge ]; then
	rm -rf /var/lib/vigil
	rmdir /etc/vigil/rules /etc/vigil 2>/dev/null || true
fi
exit 0
