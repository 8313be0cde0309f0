#!/bin/sh
# Concord: run script for a supervisor (runit/s6/daemontools/supervisord), using
# spawn-fcgi instead of systemd socket activation.  See README in this directory.
# Runs in the foreground (-n); stop with SIGTERM.  Override any value below via
# the environment.
set -eu

CONCORD_BIN=${CONCORD_BIN:-/usr/local/bin/concord}
CONCORD_DATA=${CONCORD_DATA:-/var/lib/concord}
CONCORD_SOCKET=${CONCORD_SOCKET:-/run/concord/concord.sock}
CONCORD_USER=${CONCORD_USER:-concord}
CONCORD_WEB_GROUP=${CONCORD_WEB_GROUP:-www-data}   # the web server's group
CONCORD_WORKERS=${CONCORD_WORKERS:-4}

# Optional settings file (KEY=value lines: CONCORD_MAX_UPLOAD_BYTES=..., etc.).
if [ -r /etc/concord/concord.env ]; then
	set -a; . /etc/concord/concord.env; set +a
fi

install -d -m 0755 "$(dirname "$CONCORD_SOCKET")"

exec spawn-fcgi -s "$CONCORD_SOCKET" -M 0660 \
	-U "$CONCORD_USER" -G "$CONCORD_WEB_GROUP" \
	-u "$CONCORD_USER" -g "$CONCORD_USER" \
	-n -- "$CONCORD_BIN" -d "$CONCORD_DATA" serve --workers "$CONCORD_WORKERS"
