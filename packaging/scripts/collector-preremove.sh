#!/bin/sh
# vigil-collector preremove (deb prerm, rpm %preun).
set -u
case "${1:-}" in
	upgrade | 1) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
	systemctl stop vigil-collector.service || true
	systemctl disable vigil-collector.service || true
fi
exit 0
