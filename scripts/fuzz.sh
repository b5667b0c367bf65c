#!/usr/bin/env bash
# Fuzzes everything the gateway reads from outside (fuzz/fuzz_targets/*.rs) with cargo-fuzz
# (libFuzzer, AddressSanitizer), each target for SECONDS (default 20), starting from the
# checked-in seeds in fuzz/corpus/. New inputs go to a scratch corpus, crashes to
# fuzz/artifacts/<target>/; the run fails on the first crash, timeout or out-of-memory.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      long run: scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
# cargo-fuzz passes -Z flags (the sanitizer); the stable compiler accepts them this way, and
# ships the sanitizer runtimes.
export RUSTC_BOOTSTRAP=1
# The instrumented build of every dependency takes minutes: keep it between runs and clones.
export CARGO_TARGET_DIR="${GATEWAY_FUZZ_TARGET_DIR:-/tmp/alipay-gateway-fuzz-target}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
total=0
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -n 1)
  total=$((total + ${runs:-0}))
  echo "fuzz $target: ${runs:-0} inputs in ${seconds}s, no crash"
done
echo "fuzz: $total inputs over ${#targets[@]} targets, no crash"
