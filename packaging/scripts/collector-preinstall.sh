#!/bin/sh
# vigil-collector preinstall (deb preinst, rpm %pre): the service user, so
# that files owned by vigil unpack with that owner.
set -eu
if ! getent group vigil >/dev/null; then
	groupadd --system vigil
fi
if ! getent passwd vigil >/dev/null; then
	useradd --system --gid vigil --home-dir /var/lib/vigil-collector --no-create-home \
		--shell /usr/sbin/nologin --comment "vigil collector" vigil
fi
