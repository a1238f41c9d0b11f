#!/usr/bin/env bash
# Seed inputs for the fuzz targets, into fuzz/seeds/<target>/ (not
# committed): the fixture trees, the getting-started template, and, when
# MICROS_SRC is set, the upstream micros modules (used locally only: the
# committed corpus holds only inputs made from our own fixtures or by the
# fuzzer). Parts of an input are separated by NUL bytes (see
# lsp/src/fuzzing.rs).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf seeds
mkdir -p seeds/parse seeds/diagnostics seeds/extract seeds/server
sources=()
while IFS= read -r -d '' f; do sources+=("$f"); done \
  < <(find ../tests/fixtures -name '*.nix' -print0 | sort -z)
if [ -n "${MICROS_SRC:-}" ] && [ -d "$MICROS_SRC/micros/modules" ]; then
  while IFS= read -r -d '' f; do sources+=("$f"); done \
    < <(find "$MICROS_SRC/micros/modules" -name '*.nix' -size -64k -print0 | sort -z)
fi
i=0
for f in "${sources[@]}"; do
  i=$((i + 1))
  cp "$f" "seeds/parse/$i"
  cp "$f" "seeds/diagnostics/$i"
  cp "$f" "seeds/extract/$i"
  # A session: open the file, ask for hover and completion, edit it.
  {
    printf '\000\000'; cat "$f"
    printf '\000\003\000\003\010'
    printf '\000\004\000\002\004'
    printf '\000\001\000'; cat "$f"
    printf '\000\006\000'
  } > "seeds/server/$i"
done
# Pairs: a file edited into the next one; a module and a file importing it.
prev=""
for f in "${sources[@]}"; do
  i=$((i + 1))
  if [ -n "$prev" ]; then
    { cat "$prev"; printf '\000'; cat "$f"; } > "seeds/parse/$i"
    { cat "$f"; printf '\000'; cat "$prev"; } > "seeds/extract/$i"
  fi
  prev="$f"
done
echo "seeds: $(ls seeds/parse | wc -l) per target (${#sources[@]} source files)"
