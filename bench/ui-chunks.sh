#!/usr/bin/env bash
# The UI bundle chunk by chunk (ui/dist, as `npm run build` leaves it): size and gzip size of each
# JavaScript and CSS file, and whether the app loads it at start (the entry script and what
# index.html preloads) or a page asks for it later. Since 27f58a9 the first paint is index.html
# itself (its static first frame, the first row); what loads "at start" is fetched at once but run
# only after that frame is on screen. The RESULT keys keep their names (first_paint_* = at start)
# so older runs compare. Prints a Markdown table and a RESULT line.
set -euo pipefail
cd "$(dirname "$0")/../ui/dist"
[ -f index.html ] || { echo "no ui/dist: (cd ui && npm ci && npm run build)"; exit 0; }
first="$(grep -o '\(src\|href\)="/assets/[^"]*"' index.html | sed 's/.*"\/assets\/\(.*\)"/\1/')"
echo "| chunk | kB | gzip kB | loaded |"
echo "|---|---|---|---|"
html=$(wc -c <index.html); html_gz=$(gzip -9 -c index.html | wc -c)
printf '| index.html (the first frame) | %.1f | %.1f | first paint |\n' "$(echo "$html/1000" | bc -l)" "$(echo "$html_gz/1000" | bc -l)"
total=0; total_gz=0; fp=0; fp_gz=0; n=0
while read -r size f; do
  gz=$(gzip -9 -c "assets/$f" | wc -c)
  when="on demand"
  if printf '%s\n' "$first" | grep -qxF "$f"; then
    when="at start"; fp=$((fp + size)); fp_gz=$((fp_gz + gz))
  fi
  total=$((total + size)); total_gz=$((total_gz + gz)); n=$((n + 1))
  printf '| %s | %.1f | %.1f | %s |\n' "$f" "$(echo "$size/1000" | bc -l)" "$(echo "$gz/1000" | bc -l)" "$when"
done < <(cd assets && find . -maxdepth 1 \( -name '*.js' -o -name '*.css' \) -printf '%s %f\n' | sort -rn)
printf '| **at start** (after the frame) | **%.1f** | **%.1f** | |\n' "$(echo "$fp/1000" | bc -l)" "$(echo "$fp_gz/1000" | bc -l)"
printf '| all %d chunks | %.1f | %.1f | |\n' "$n" "$(echo "$total/1000" | bc -l)" "$(echo "$total_gz/1000" | bc -l)"
printf 'RESULT {"bench":"ui_chunks","chunks":%d,"first_paint_bytes":%d,"first_paint_gzip_bytes":%d,"all_bytes":%d,"all_gzip_bytes":%d,"index_html_bytes":%d}\n' "$n" "$fp" "$fp_gz" "$total" "$total_gz" "$html"
