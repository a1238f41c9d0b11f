#!/usr/bin/env bash
# Fuzzing smoke run: each fuzz target for a fixed number of executions
# (not a timed test), starting from the committed corpus, printing
# libFuzzer's counts. The long runs are done by hand (README: Fuzzing).
# Installs cargo-fuzz and a C++ compiler when missing.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
if ! command -v c++ >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi

# cargo-fuzz passes nightly flags; the stable toolchain takes them so.
export RUSTC_BOOTSTRAP=1
# The flags of the long runs (README: Fuzzing).
flags=(-s none -O -a --no-trace-compares)
cargo fuzz build "${flags[@]}"

runs() {
  local target=$1 count=$2
  rm -rf "work/smoke-$target"
  mkdir -p "work/smoke-$target"
  # A scratch corpus: the committed one is read, not rewritten.
  local log
  log=$(cargo fuzz run "${flags[@]}" "$target" "work/smoke-$target" "corpus/$target" -- \
    -runs="$count" -dict=nix.dict -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1) || {
    echo "$log" | tail -50
    echo "fuzz target $target failed"
    exit 1
  }
  echo "$log" | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' | sed "s/^/$target: /"
}

runs parse 20000
runs diagnostics 4000
runs extract 4000
runs server 1500
