#!/usr/bin/env bash
# Runs every wxdesk benchmark (release builds), each with its baseline measured in the same run.
#   scripts/bench-all.sh                       full sizes; appends a dated run to bench/RESULTS.md
#   WXDESK_BENCH_SHORT=1 scripts/bench-all.sh  small sizes, a couple of minutes: proves they run
#                                              (CI); RESULTS.md is not touched
# WXDESK_WECHATPY_VENV=DIR reuses a venv that has wechatpy (else a throwaway one is made).
# WXDESK_BENCH_ONLY="send history" runs only those groups (send relay history followers team app).
# Baselines (binaries built from an earlier commit): WXDESK_BENCH_BASELINE_CLI (send),
# WXDESK_BENCH_BASELINE_RELAY (relay at 40,000/s), WXDESK_AUDIENCE_BASELINE (follower sync).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wxdesk-target}"
SHORT="${WXDESK_BENCH_SHORT:-}"
ONLY="${WXDESK_BENCH_ONLY:-send relay history followers team app}"
BIN="$CARGO_TARGET_DIR/release"
OUT="$(mktemp -d)"
RESULTS="$OUT/results.jsonl"
trap 'rm -rf "$OUT"' EXIT
: >"$RESULTS"

step() { printf '\n\033[1m--> %s\033[0m  (%s)\n' "$*" "$(date +%T)"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
# Runs a command, shows its output, keeps its RESULT lines with the command that produced them.
run() {
  local cmd="$*"
  echo "\$ $cmd"
  "$@" 2>&1 | tee "$OUT/cmd.txt"
  sed -n -e '/^RESULT /{s/^RESULT //p;d}' -e '/^{.*"bench"/p' "$OUT/cmd.txt" | while IFS= read -r line; do
    printf "%s\t%s\n" "$line" "${cmd//$BIN\//target/release/}" >>"$RESULTS"
  done
}

if [ -n "$SHORT" ]; then
  N_SEND=500; SEQ=20; N_FAST=2000; N_RSS_BIG=20000; N_HIST="2000 20000"; N_FOLLOW=20000
  RELAY_ARGS=(--short); N_PUSH=2000
  N_CLI=300; CLI_REPS=1; N_SEND_CURVE=""
  N_TEAM=200; TEAM_REPS=1
else
  N_SEND=10000; SEQ=200; N_FAST=20000; N_RSS_BIG=1000000; N_HIST="10000 100000 1000000"; N_FOLLOW=1000000
  RELAY_ARGS=(--rate 2000 --secs 15); N_PUSH=20000
  N_CLI=5000; CLI_REPS=3; N_SEND_CURVE="10000 100000"
  N_TEAM=5000; TEAM_REPS=3
fi

step "build (release)"
cargo build --release -p wxdesk-bench --bins

if want send; then
  step "1. bulk template send"
  run "$BIN/send" throughput "$N_SEND" 100 50 "$SEQ"
  run "$BIN/send" throughput "$N_FAST" 0 50 "$SEQ"
  run "$BIN/send" rss "$N_SEND" sim
  run "$BIN/send" rss "$N_SEND" fake
  run "$BIN/send" rss "$N_RSS_BIG" fake
  # As the operator runs it (#19): the real wxdesk-cli, `send template --list` timed from spawn to
  # exit, 100 ms and 0 ms; the CLI keeps secrets in the keychain, hence with-keyring.sh.
  # WXDESK_BENCH_BASELINE_CLI=PATH (a wxdesk-cli built from an earlier commit) runs alternately.
  cargo build --release -p wxdesk-cli
  for lat in 100 0; do
    run scripts/with-keyring.sh "$BIN/send_cli" "$N_CLI" "$lat" 50 "$CLI_REPS" "$BIN/wxdesk-cli" ${WXDESK_BENCH_BASELINE_CLI:-}
  done
  # Scaling (#19 item 6): the engine at 0 ms (rate and account limits lifted) at 10k and 100k.
  for n in $N_SEND_CURVE; do
    run "$BIN/send" throughput "$n" 0 50 0
  done
fi

if want relay; then
  step "2. relay callback path (load generator) and the wechatpy peer baseline"
  run cargo bench -p wxdesk-relay --bench callback_load -- "${RELAY_ARGS[@]}"
  if [ -z "$SHORT" ]; then
    run cargo bench -p wxdesk-relay --bench callback_load -- --rate 5000 --secs 15
    run cargo bench -p wxdesk-relay --bench callback_load -- --rate 8000 --secs 10
    # #19 item 2: the single-desk target rate, and team mode with PostgreSQL as the store (a
    # throwaway cluster from Debian's postgresql package, as the tests start).
    # Three runs (this rate is at the edge of two shared cores, so one run says little), each
    # followed by WXDESK_BENCH_BASELINE_RELAY=PATH (a wxdesk-relay built from an earlier commit)
    # under the same load when it is set.
    for _ in 1 2 3; do
      run cargo bench -p wxdesk-relay --bench callback_load -- --rate 40000 --secs 15
      if [ -n "${WXDESK_BENCH_BASELINE_RELAY:-}" ]; then
        run env WXDESK_BENCH_RELAY="$WXDESK_BENCH_BASELINE_RELAY" \
          cargo bench -p wxdesk-relay --bench callback_load -- --rate 40000 --secs 15
      fi
    done
    run cargo bench -p wxdesk-relay --bench callback_load -- --pg --rate 10000 --secs 15
  fi
  run "$BIN/crypto_peer" "$N_PUSH" "$OUT/pushes.jsonl"
  PY=""
  if [ -n "${WXDESK_WECHATPY_VENV:-}" ]; then
    PY="$WXDESK_WECHATPY_VENV/bin/python"
  elif command -v python3 >/dev/null; then
    python3 -m venv "$OUT/venv" &&
      "$OUT/venv/bin/pip" install -q --disable-pip-version-check wechatpy cryptography &&
      PY="$OUT/venv/bin/python"
  fi
  if [ -n "$PY" ]; then
    run "$PY" bench/peer/wechatpy_decrypt.py "$OUT/pushes.jsonl"
  else
    echo "wechatpy baseline skipped: no python3 venv with wechatpy"
  fi
fi

if want history; then
  step "3. history at scale"
  # One process, each size in turn (#19 item 6): every page against the pre-#19 statement, with
  # and without ANALYZE, the export against the old paged reads; ends with the scaling table.
  # shellcheck disable=SC2086  # the sizes are separate arguments
  run "$BIN/history" $N_HIST
fi

if want followers; then
  step "4. follower sync (and list import) at 50 ms latency"
  # What the batchget calls alone cost against the in-process sim (no store): the part of the
  # sync above its floor that belongs to the calls.
  if [ -n "$SHORT" ]; then SIM_CALLS=200; else SIM_CALLS=2000; fi
  run "$BIN/sim_calls" "$SIM_CALLS" 50 16
  run "$BIN/audience" "$N_FOLLOW" 50 "$N_FOLLOW"
  # #19 item 6: the sync alone at each size, its own peak RSS, each against the audience binary
  # WXDESK_AUDIENCE_BASELINE names (built from an earlier commit), if set.
  if [ -n "$SHORT" ]; then FOLLOW_CURVE="10000"; else FOLLOW_CURVE="10000 100000 1000000"; fi
  # shellcheck disable=SC2086  # the sizes are separate arguments
  run "$BIN/audience" curve 50 $FOLLOW_CURVE
fi

if want team; then
  step "5. team-mode bulk send: 1 relay process vs 2 on one PostgreSQL, 100 ms (#17)"
  # Needs Debian's postgresql package (scripts/setup-system.sh); the release relay binary runs as
  # real child processes next to the bench binary.
  cargo build --release -p wxdesk-relay
  run "$BIN/team_send" 100 "$TEAM_REPS" "$N_TEAM" "$BIN/wxdesk-relay"
fi

if want app; then
  step "6a. UI bundle, chunk by chunk (the first frame, what loads at start, what pages load later)"
  run bash bench/ui-chunks.sh
  step "6a'. the page's own phases in WebKitGTK's MiniBrowser (script, React's first commit, paint)"
  run env WXDESK_WEB_PHASES_RUNS="$([ -n "$SHORT" ] && echo 1 || echo 10)" bash bench/web-phases.sh
fi

if want app && [ -z "$SHORT" ]; then
  step "6b. app cold start and idle memory (Xvfb)"
  if [ ! -f ui/dist/index.html ]; then
    echo "the release app embeds ui/dist: build the UI first (cd ui && npm ci && npm run build)"
  elif [ -x bench/app-start.sh ]; then
    # The app, its baseline (the DMA-BUF renderer kept on, as before d558553) and WebKitGTK's own
    # floor, ten cold starts each, alternating. The release app is built first.
    cargo build --release -p wxdesk --features tauri/custom-protocol
    run env WXDESK_APP_START_RUNS=10 WXDESK_APP_START_VARIANTS="app app_dmabuf_on webkit_floor" \
      bash bench/app-start.sh
  else
    echo "app benchmark not present"
  fi
fi

if [ -z "$SHORT" ]; then
  step "record in bench/RESULTS.md"
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  {
    echo
    echo "### Run $(date -u '+%Y-%m-%d %H:%M UTC') — $(nproc) cores, ${cpu:-unknown CPU}, $(free -g | awk '/Mem:/{print $2}') GiB, commit $(git rev-parse --short HEAD)"
    echo
    echo "Reproduce: \`scripts/bench-all.sh\` (or the per-row command). Raw results:"
    echo
    echo '```'
    cat "$RESULTS"
    echo '```'
  } >>bench/RESULTS.md
  echo "appended $(wc -l <"$RESULTS") results to bench/RESULTS.md"
fi
step "benchmarks done"
