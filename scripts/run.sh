#!/usr/bin/env bash
# Sets up this machine (system packages, Node, UI dependencies), builds the app and launches it.
# With nothing configured the app starts on the built-in sandbox (wxdesk-sim + wxdesk-relay on
# loopback), so a new user can try everything without a WeChat account.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup-system.sh | tail -n 1)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wxdesk-target}"
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run build)
cargo build -p wxdesk
exec "$CARGO_TARGET_DIR/debug/wxdesk" "$@"
