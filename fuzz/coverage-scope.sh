#!/usr/bin/env bash
# rustc wrapper of the fuzzing build (.cargo/config.toml): cargo-fuzz asks
# for coverage instrumentation (the sancov pass) in every crate; we keep it
# in the code under test only: ours, and rnix, rowan and alejandra, whose
# parsing and formatting the inputs drive. The rest (tokio, tower-lsp,
# serde, salsa, ...) still runs, uninstrumented: its edges depend on thread
# timing more than on the input, so each run found "new" inputs that were
# noise, and libFuzzer's bookkeeping of them was most of the server's time.
set -euo pipefail
rustc=$1
shift
crate=
previous=
for arg in "$@"; do
  [ "$previous" = --crate-name ] && crate=$arg
  previous=$arg
done
case $crate in
  micros_lsp | micros_options | rnix | rowan | alejandra | parse | diagnostics | extract | server)
    exec "$rustc" "$@" ;;
esac
args=()
for arg in "$@"; do
  [ "$arg" = -Cpasses=sancov-module ] || args+=("$arg")
done
exec "$rustc" "${args[@]}"
