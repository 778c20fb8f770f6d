#!/bin/sh
# vigil-agent postinstall (deb postinst "configure", rpm %post).
# Never fails the install: a host without systemd running (a container, a
# chroot, CI) or without eBPF still gets the files.
set -u

# Credentials written by `vigil enrol` are secrets: root only.
for f in /etc/vigil/agent.creds /etc/vigil/*.key; do
	[ -f "$f" ] && chown root:root "$f" && chmod 0600 "$f"
done
chmod 0700 /var/lib/vigil /var/lib/vigil/spool 2>/dev/null || true

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	systemctl enable vigil-agent.service || true
	# An upgrade restarts a running agent on the new binary; a first
	# install leaves starting to the administrator, after configuring.
	systemctl try-restart vigil-agent.service || true
else
	echo "vigil-agent: systemd is not running here; enable vigil-agent.service once it is"
fi

echo "vigil-agent: what this host and configuration are missing (vigil-agent preflight):"
/usr/bin/vigil-agent preflight || echo "vigil-agent: fix what preflight names, then systemctl start vigil-agent; the install goes on"
exit 0
