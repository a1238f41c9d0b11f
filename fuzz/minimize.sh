#!/usr/bin/env bash
# Minimize what the fuzzers found (work/<target>/) together with the
# committed corpus into corpus/<target>/, with `cargo fuzz cmin`, then
# leave out every input that still holds upstream text (a line of
# $MICROS_SRC's micros tree of 30 characters or more that none of our
# fixtures has): the committed corpus is our own inputs only.
#   fuzz/minimize.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
# The flags of the fuzzing build (README: Fuzzing), so cmin does not rebuild.
flags=(-s none -O -a --no-trace-compares)

if [ -d seeds-upstream ] && [ ! -d "${MICROS_SRC:-}/micros" ]; then
  echo "seeds-upstream/ exists: set MICROS_SRC so its text can be left out" >&2
  exit 1
fi
mkdir -p work
trimmed() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | awk 'length >= 30' | sort -u; }
upstream=work/upstream-lines
: > "$upstream"
if [ -n "${MICROS_SRC:-}" ] && [ -d "$MICROS_SRC/micros" ]; then
  comm -23 \
    <(find "$MICROS_SRC/micros" -name '*.nix' -exec cat {} + | trimmed) \
    <(find ../tests/fixtures -name '*.nix' -exec cat {} + | trimmed) > "$upstream"
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse diagnostics extract server)
for target in "${targets[@]}"; do
  mkdir -p corpus/"$target" work/"$target"
  merged="work/min-$target"
  rm -rf "$merged"
  mkdir -p "$merged"
  before=$(cat corpus/"$target"/* work/"$target"/* 2>/dev/null | wc -c)
  count=$(find corpus/"$target" work/"$target" -type f 2>/dev/null | wc -l)
  for dir in corpus/"$target" work/"$target"; do
    [ -d "$dir" ] && find "$dir" -type f -exec cp -t "$merged" {} +
  done
  cargo fuzz cmin "${flags[@]}" "$target" "$merged" -- -use_counters=0 -timeout=5 -rss_limit_mb=4096 >/dev/null 2>&1
  if [ -s "$upstream" ]; then
    grep -lFf "$upstream" -r "$merged" | xargs -r rm
  fi
  rm -rf corpus/"$target"
  mv "$merged" corpus/"$target"
  echo "$target: $count inputs, $before bytes -> $(find corpus/"$target" -type f | wc -l) inputs, $(cat corpus/"$target"/* | wc -c) bytes"
done
