#!/usr/bin/env bash
# App cold start under Xvfb: time from exec to the first screen that shows rendered page content
# (the screen polled: the window is up and the web page painted more than a blank background),
# then, after 10 s idle, the summed RSS and PSS of the app and all its child processes (WebKit's
# web and network processes included). Uses $WXDESK_APP_BIN or target/release/wxdesk, a fresh
# data dir per start, and a private keyring session; runs xvfb-run itself; needs ImageMagick.
#
#   WXDESK_APP_START_RUNS=N       cold starts per variant (default 1), the variants alternating
#   WXDESK_APP_START_VARIANTS=".."  any of:
#     app            the app as shipped (default)
#     app_dmabuf_on  the same binary with WebKitGTK's DMA-BUF renderer kept on
#                    (WEBKIT_DISABLE_DMABUF_RENDERER=0): the app before d558553, the baseline
#     webkit_floor   WebKitGTK's own MiniBrowser on a one-line static page, renderer as the app
#                    sets it: what any window of this web engine costs on this machine
#   WXDESK_APP_START_WATCH=x11|magick  how the screen is watched: x11 (default) polls the root
#                  window every 10 ms through libX11 (bench/screen-watch.py) and reports the
#                  start of the first poll that saw the page; magick is the method until
#                  2026-12-06 (ImageMagick captures, each ~80 ms of CPU, 50 ms apart, the time
#                  taken after the count), kept to compare figures with older sections
# Each start prints a RESULT line; with several runs a summary line per variant gives medians.
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${WXDESK_APP_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/wxdesk-target}/release/wxdesk}"
[ -x "$APP" ] || { echo "no app binary at $APP (cargo build --release -p wxdesk)"; exit 0; }
RUNS="${WXDESK_APP_START_RUNS:-1}"
VARIANTS="${WXDESK_APP_START_VARIANTS:-app}"
WATCH="${WXDESK_APP_START_WATCH:-x11}"
MINIBROWSER="$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser 2>/dev/null | head -n 1 || true)"

# One cold start of variant $1; prints a RESULT line.
one() {
  local variant="$1" data page=""
  data="$(mktemp -d)"
  local cmd=("$APP") env=()
  case "$variant" in
    app) ;;
    app_dmabuf_on) env=(WEBKIT_DISABLE_DMABUF_RENDERER=0) ;;
    webkit_floor)
      [ -n "$MINIBROWSER" ] || { echo "webkit_floor: no MiniBrowser (apt: libwebkit2gtk-4.1-0)"; rm -rf "$data"; return 0; }
      page="$data/page.html"
      # Enough colours for the paint check, nothing else.
      printf '<!doctype html><body style="margin:0;height:100vh;background:linear-gradient(90deg,#f00,#0f0,#00f)"><h1>floor</h1>' >"$page"
      cmd=("$MINIBROWSER" "file://$page")
      env=(WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}")
      ;;
    *) echo "unknown variant $variant"; rm -rf "$data"; return 1 ;;
  esac
  local first="" settled="" watcher="" seen="$data.seen"
  if [ "$WATCH" = x11 ]; then
    # Connected and polling before the clock starts (bench/screen-watch.py).
    python3 bench/screen-watch.py 64 30 ${WXDESK_APP_START_SHOT:+"$data.ppm"} >"$seen" 2>/dev/null &
    watcher=$!
    for _ in $(seq 1 200); do grep -q ready "$seen" 2>/dev/null && break; sleep 0.01; done
  fi
  local t0; t0=$(date +%s.%N)
  env "${env[@]}" WXDESK_DATA_DIR="$data" "${cmd[@]}" >/dev/null 2>&1 &
  local pid=$!
  if [ "$WATCH" = x11 ]; then
    wait "$watcher" 2>/dev/null && first=$(sed -n 2p "$seen") && settled=$(sed -n 3p "$seen")
    # WXDESK_APP_START_SHOT=file.png keeps the picture that was judged rendered.
    [ -f "$data.ppm" ] && { convert "$data.ppm" "$WXDESK_APP_START_SHOT" || true; rm -f "$data.ppm"; }
  else
    # The method until 2026-12-06: ImageMagick captures 50 ms apart, each ~80 ms of a core, the
    # time taken after the capture's colour count (so each figure carries that count too).
    for _ in $(seq 1 600); do
      local colours
      colours=$(import -silent -window root -resize 25% png:- 2>/dev/null | convert png:- -format %k info: 2>/dev/null || echo 0)
      if [ "${colours:-0}" -gt 64 ]; then
        first=$(date +%s.%N)
        [ -n "${WXDESK_APP_START_SHOT:-}" ] && import -silent -window root "$WXDESK_APP_START_SHOT" || true
        break
      fi
      sleep 0.05
    done
  fi
  rm -f "$seen"
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
    # Settled: the screen's last change before a second without one (x11 only; 0 otherwise).
    local still=0; [ -n "$settled" ] && still=$(echo "$settled - $t0" | bc -l)
    printf '%s: first rendered page after %.2f s, settled after %.2f s; idle, %d processes: RSS sum %.1f MiB, PSS sum %.1f MiB\n' "$variant" "$secs" "$still" "$procs" "$(echo "$rss/1024" | bc -l)" "$(echo "$pss/1024" | bc -l)"
    printf 'RESULT {"bench":"app_start","variant":"%s","watch":"%s","cold_start_s":%.3f,"settled_s":%.3f,"idle_rss_kib":%d,"idle_pss_kib":%d,"processes":%d}\n' "$variant" "$WATCH" "$secs" "$still" "$rss" "$pss" "$procs"
  else
    echo "$variant: no rendered page within 30 s"
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

inner() {
  local log; log="$(mktemp)"
  for _ in $(seq 1 "$RUNS"); do
    for v in $VARIANTS; do one "$v" | tee -a "$log"; done
  done
  if [ "$RUNS" -gt 1 ]; then
    for v in $VARIANTS; do
      local lines; lines="$(grep "^RESULT .*\"variant\":\"$v\"" "$log" || true)"
      [ -n "$lines" ] || continue
      local n t s p
      n=$(printf '%s\n' "$lines" | wc -l)
      t=$(printf '%s\n' "$lines" | sed 's/.*"cold_start_s":\([0-9.]*\).*/\1/' | median)
      s=$(printf '%s\n' "$lines" | sed 's/.*"settled_s":\([0-9.]*\).*/\1/' | median)
      p=$(printf '%s\n' "$lines" | sed 's/.*"idle_pss_kib":\([0-9]*\).*/\1/' | median)
      printf '%s: median of %d: first page %.2f s, settled %.2f s, idle PSS %.1f MiB\n' "$v" "$n" "$t" "$s" "$(echo "$p/1024" | bc -l)"
      printf 'RESULT {"bench":"app_start_median","variant":"%s","watch":"%s","runs":%d,"cold_start_s":%.3f,"settled_s":%.3f,"idle_pss_kib":%d}\n' "$v" "$WATCH" "$n" "$t" "$s" "${p%.*}"
    done
  fi
  rm -f "$log"
}
if [ -n "${WXDESK_APP_START_INNER:-}" ]; then inner; exit 0; fi
WXDESK_APP_START_INNER=1 scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" bash "$0"
