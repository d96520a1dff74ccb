#!/usr/bin/env bash
# Where the web page's first-paint time goes (#19 item 1), measured in WebKitGTK's own MiniBrowser
# (the engine the app embeds) without the app around it: a copy of ui/dist is served on loopback
# with a probe script in its <head>, and each of N cold loads reports, in ms from navigation start,
#   dcl     DOMContentLoaded: the first-paint JavaScript loaded, parsed and run
#   commit  React's first commit (its frame replaces the static first frame in #root)
#   fcp     first contentful paint, as WebKit's paint timing reports it (the static first frame
#           of index.html, since it has one)
#   page    概览 shows its figures (its chunk loaded and rendered; the Tauri commands fail at once
#           here, outside the app, so this is the render, not the data)
# The app adds its own start before navigation (bench/app-start.sh measures the whole). Needs
# `npm run build` first and Xvfb. Prints one line per load and a median line.
#
#   WXDESK_WEB_PHASES_RUNS=N   loads (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${WXDESK_WEB_PHASES_RUNS:-5}"
MINIBROWSER="$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser 2>/dev/null | head -n 1 || true)"
[ -n "$MINIBROWSER" ] || { echo "web-phases: no MiniBrowser (apt: libwebkit2gtk-4.1-0)"; exit 0; }
[ -f ui/dist/index.html ] || { echo "web-phases: no ui/dist (cd ui && npm ci && npm run build)"; exit 0; }

if [ -z "${WXDESK_WEB_PHASES_INNER:-}" ]; then
  WXDESK_WEB_PHASES_INNER=1 exec xvfb-run -a -s "-screen 0 1280x800x24" bash "$0"
fi

work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cp -r ui/dist "$work/site"
cat >"$work/site/probe.js" <<'EOF'
(function () {
  var commit = 0;
  new MutationObserver(function () {
    var root = document.getElementById("root");
    // The first frame (index.html's static frame, firstFrame.ts) is there from the start;
    // React's commit replaces it.
    var first = root && root.firstChild;
    if (!commit && first && first.id !== "first-frame") commit = performance.now();
  }).observe(document.documentElement, { childList: true, subtree: true });
  function report() {
    var fcp = performance.getEntriesByName("first-contentful-paint")[0];
    var nav = performance.getEntriesByType("navigation")[0] || {};
    fetch("/__phases?dcl=" + Math.round(nav.domContentLoadedEventEnd || 0) + "&commit=" +
      Math.round(commit) + "&fcp=" + Math.round(fcp ? fcp.startTime : 0) + "&page=" +
      Math.round(performance.now()));
  }
  function poll() {
    if (document.querySelector(".ant-statistic-content-value")) {
      requestAnimationFrame(function () { requestAnimationFrame(report); });
    } else requestAnimationFrame(poll);
  }
  requestAnimationFrame(poll);
})();
EOF
# A classic script first in <head>: it runs before the app's module scripts are fetched.
sed -i 's#<head>#<head><script src="/probe.js"></script>#' "$work/site/index.html"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 -d "$work/site" >"$work/access.log" 2>&1 &
server=$!
sleep 0.5

for i in $(seq 1 "$RUNS"); do
  before=$(grep -ac '__phases' "$work/access.log" || true)
  WEBKIT_DISABLE_DMABUF_RENDERER=1 "$MINIBROWSER" "http://127.0.0.1:$port/" >/dev/null 2>&1 &
  mb=$!
  for _ in $(seq 1 100); do
    [ "$(grep -ac '__phases' "$work/access.log" || true)" -gt "$before" ] && break
    sleep 0.1
  done
  kill "$mb" 2>/dev/null || true
  wait "$mb" 2>/dev/null || true
done

grep -ao '__phases?[^ ]*' "$work/access.log" | sed 's/__phases?//; s/&/ /g' | tee "$work/lines"
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
n=$(wc -l <"$work/lines")
[ "$n" -gt 0 ] || { echo "web-phases: no load reported"; exit 1; }
out="RESULT {\"bench\":\"web_phases\",\"runs\":$n"
for k in dcl commit fcp page; do
  m=$(grep -o "$k=[0-9]*" "$work/lines" | cut -d= -f2 | median)
  out="$out,\"${k}_ms\":$m"
done
echo "$out}"
