#!/bin/sh
# vigil-collector postinstall (deb postinst "configure", rpm %post).
set -u
for f in /etc/vigil/collector-credentials/*; do
	[ -f "$f" ] && chown vigil:vigil "$f" && chmod 0600 "$f"
done
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	systemctl enable vigil-collector.service || true
	systemctl try-restart vigil-collector.service || true
else
	echo "vigil-collector: systemd is not running here; enable vigil-collector.service once it is"
fi
exit 0
