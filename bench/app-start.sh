#!/usr/bin/env bash
# App cold start under Xvfb: time from exec to the first screen that shows rendered page content
# (polled screenshots: the window is up and the web page painted more than a blank background),
# then, after 10 s idle, the summed RSS of the app and all its child processes (WebKit's web and
# network processes included). Uses $WXDESK_APP_BIN or target/release/wxdesk, a fresh data dir,
# and a private keyring session. Run inside xvfb-run is done here; needs ImageMagick `import`.
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${WXDESK_APP_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/wxdesk-target}/release/wxdesk}"
[ -x "$APP" ] || { echo "no app binary at $APP (cargo build --release -p wxdesk)"; exit 0; }
inner() {
  local data; data="$(mktemp -d)"
  local t0; t0=$(date +%s.%N)
  WXDESK_DATA_DIR="$data" "$APP" >/dev/null 2>&1 &
  local pid=$!
  local first=""
  for _ in $(seq 1 600); do
    # Distinct colours on screen: a blank root or an unpainted window has very few.
    local colours
    colours=$(import -silent -window root -resize 25% png:- 2>/dev/null | convert png:- -format %k info: 2>/dev/null || echo 0)
    if [ "${colours:-0}" -gt 64 ]; then
      first=$(date +%s.%N)
      # WXDESK_APP_START_SHOT=file.png keeps that first frame, to check what was judged rendered.
      [ -n "${WXDESK_APP_START_SHOT:-}" ] && import -silent -window root "$WXDESK_APP_START_SHOT" || true
      break
    fi
    sleep 0.05
  done
  sleep 10
  local rss=0 pss=0 procs=0
  for p in $pid $(pgrep -P "$pid" || true) $(for c in $(pgrep -P "$pid" || true); do pgrep -P "$c" || true; done); do
    local kb; kb=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    # PSS splits shared pages (WebKit's libraries) between the processes; RSS counts them in each.
    local pkb; pkb=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    rss=$((rss + ${kb:-0})); pss=$((pss + ${pkb:-0})); procs=$((procs + 1))
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  if [ -n "$first" ]; then
    local secs; secs=$(echo "$first - $t0" | bc -l)
    printf 'app: first rendered page after %.2f s; idle, %d processes: RSS sum %.1f MiB, PSS sum %.1f MiB\n' "$secs" "$procs" "$(echo "$rss/1024" | bc -l)" "$(echo "$pss/1024" | bc -l)"
    printf 'RESULT {"bench":"app_start","cold_start_s":%.3f,"idle_rss_kib":%d,"idle_pss_kib":%d,"processes":%d}\n' "$secs" "$rss" "$pss" "$procs"
  else
    echo "app: no rendered page within 30 s"
  fi
}
if [ -n "${WXDESK_APP_START_INNER:-}" ]; then inner; exit 0; fi
WXDESK_APP_START_INNER=1 scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" bash "$0"
