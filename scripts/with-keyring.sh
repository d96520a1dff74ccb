#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# so tests use the real OS keychain without touching the user's own. The keyring's files live in
# a throwaway HOME given only to gnome-keyring-daemon (rustup needs the real HOME).
#   scripts/with-keyring.sh cargo test -p wxdesk-core
set -euo pipefail
if [ -z "${WXDESK_IN_KEYRING_SESSION:-}" ]; then
  export WXDESK_IN_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
KR_HOME="$(mktemp -d "${TMPDIR:-/tmp}/wxdesk-keyring.XXXXXX")"
trap 'rm -rf "$KR_HOME"' EXIT
# --unlock reads the new login keyring's password from stdin and creates it unlocked.
eval "$(printf 'wxdesk-test' | HOME="$KR_HOME" gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
