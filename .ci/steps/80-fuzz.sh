#!/usr/bin/env bash
# Fuzzing smoke run: each fuzz target for a fixed number of executions from
# the committed corpus (not a timed test), printing libFuzzer's counts. The
# long runs are done by hand (README: Fuzzing). Installs cargo-fuzz itself.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

if ! command -v cargo-fuzz >/dev/null; then
  cargo install --locked cargo-fuzz
fi
if ! command -v c++ >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi

# cargo-fuzz needs nightly flags; the stable toolchain takes them so.
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none --release

runs() {
  local target=$1 count=$2
  mkdir -p "work/$target"
  # Runs from a scratch copy so the committed corpus is not rewritten.
  cp -r "corpus/$target/." "work/$target/"
  local log
  log=$(cargo fuzz run -s none --release "$target" "work/$target" -- \
    -runs="$count" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1) || {
    echo "$log" | tail -50
    echo "fuzz target $target failed"
    exit 1
  }
  echo "$log" | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' | sed "s/^/$target: /"
}

runs parse 20000
runs diagnostics 5000
runs extract 5000
runs server 300
