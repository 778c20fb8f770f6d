#!/bin/sh
# vigil-agent preremove (deb prerm, rpm %preun). Stops the agent when the
# package is removed; an upgrade leaves it to postinstall's try-restart.
set -u
case "${1:-}" in
	upgrade | 1) exit 0 ;; # deb upgrade, rpm upgrade ($1 = packages left)
esac
if [ -d /run/systemd/system ]; then
	systemctl stop vigil-agent.service || true
	systemctl disable vigil-agent.service || true
fi
exit 0
