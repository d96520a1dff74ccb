#!/usr/bin/env bash
# Short fuzz run for CI and for anyone on a fresh machine.
#  1. Always: the stable smoke harness (crates/wechat/tests/fuzz_smoke.rs, the same target bodies
#     on ~100k seeded random and mutated inputs), built in the main workspace like every other
#     test, so a machine with only what scripts/setup-system.sh installs runs exactly this path.
#  2. When a nightly toolchain and cargo-fuzz are both present (an optional extra, never
#     required): each cargo-fuzz target for FUZZ_SECS seconds (default 60) on top.
# Exit status is non-zero on any crash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
secs="${FUZZ_SECS:-60}"

echo "== stable smoke harness (cargo test -p wxdesk-wechat --test fuzz_smoke)"
# From the workspace root: this directory is its own (nightly) workspace, where wxdesk-wechat is
# only a path dependency and its tests cannot be built.
(cd "$root" && cargo test -p wxdesk-wechat --test fuzz_smoke)

if cargo +nightly --version >/dev/null 2>&1 && cargo +nightly fuzz --version >/dev/null 2>&1; then
  cd "$here"
  # Nightly artifacts never match the workspace's stable ones: keep them in their own cache.
  export CARGO_TARGET_DIR="${WXDESK_FUZZ_TARGET_DIR:-$HOME/.cache/wxdesk-fuzz-target}"
  # Seeds: one real push per target, so the fuzzer starts inside the interesting paths.
  mkdir -p corpus/callback_parse corpus/decrypt_push
  printf '%s' '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>7</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>' \
    > corpus/callback_parse/seed-text
  printf '%s' '<xml><AppId>a</AppId><CreateTime>1</CreateTime><InfoType>authorized</InfoType><AuthorizerAppid>b</AuthorizerAppid><AuthorizationCode>c</AuthorizationCode><AuthorizationCodeExpiredTime>2</AuthorizationCodeExpiredTime><PreAuthCode>d</PreAuthCode></xml>' \
    > corpus/callback_parse/seed-authorized
  printf '%s' '12345678D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4Vtsd' \
    > corpus/decrypt_push/seed-b64
  for target in callback_parse decrypt_push; do
    echo "== cargo fuzz: $target for ${secs}s"
    # -s none: the crate forbids unsafe code, so ASan adds little; panics are what we hunt.
    cargo +nightly fuzz run -s none "$target" -- -max_total_time="$secs" -max_len=4096
  done
else
  echo "== cargo-fuzz on nightly not installed: the stable harness above is the whole fuzz run" \
       "(optional extra: rustup toolchain install nightly && cargo install cargo-fuzz)"
fi
