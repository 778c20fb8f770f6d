#!/bin/sh
# vigil-agent postremove (deb postrm, rpm %postun). Config stays on remove;
# deb purge and rpm erase delete the state (agent id and unsent spool) and
# the secrets vigil enrol put in /etc/vigil, which no package owns, so that
# no agent key outlives its package.
set -u
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "${1:-}" = purge ] || [ "${1:-}" = 0 ]; then
	rm -rf /var/lib/vigil
	rm -f /etc/vigil/agent.nk /etc/vigil/*.nk /etc/vigil/agent.creds /etc/vigil/*.creds /etc/vigil/deployment.key
	rmdir /etc/vigil/rules /etc/vigil 2>/dev/null || true
fi
exit 0
