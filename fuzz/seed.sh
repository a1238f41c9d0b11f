#!/usr/bin/env bash
# Seed inputs for the fuzz targets (not committed): seeds/<target>/ from
# our fixture trees (the getting-started template among them) and a few
# module trees written here; seeds-upstream/<target>/ from the upstream
# micros modules when MICROS_SRC is set. Upstream text is for local runs
# only: it never goes into the committed corpus (see minimize.sh). Parts
# of an input are separated by NUL bytes (see lsp/src/fuzzing.rs).
set -euo pipefail
cd "$(dirname "$0")"

# seeds <dir> <file>...: every target's seeds made from these files.
seeds() {
  local out=$1 i=0 prev=""
  shift
  rm -rf "$out"
  mkdir -p "$out"/{parse,diagnostics,extract,server}
  for f in "$@"; do
    i=$((i + 1))
    cp "$f" "$out/parse/$i"
    cp "$f" "$out/diagnostics/$i"
    cp "$f" "$out/extract/$i"
    # A session (lsp/src/fuzzing/session.rs): open the file, then hover,
    # completion, definition, semantic tokens, folds, formatting, an edit,
    # the whole text again, symbols. A part is an operation byte, a
    # document byte ('0' or '1'), then text whose first two bytes are a
    # line and a character.
    {
      printf '\020\060'; cat "$f"
      printf '\000\003\060\003\010'
      printf '\000\004\060\002\004'
      printf '\000\005\060\005\012'
      printf '\000\015\060\001\003'
      printf '\000\016\060\001\001'
      printf '\000\013\060'
      printf '\000\002\060\004\002x'
      printf '\000\001\060'; cat "$f"
      printf '\000\006\060'
    } > "$out/server/$i"
    if [ -n "$prev" ]; then
      # A text edited into the next one; a file with a module beside it;
      # two modules of a tree.
      { cat "$prev"; printf '\000'; cat "$f"; } > "$out/parse/p$i"
      { cat "$f"; printf '\000'; cat "$prev"; } > "$out/diagnostics/p$i"
      { cat "$f"; printf '\000'; cat "$prev"; } > "$out/extract/p$i"
      { printf '\020\060'; cat "$f"; printf '\000\020\061'; cat "$prev"
        printf '\000\003\061\002\006\000\004\060\003\004'; } > "$out/server/p$i"
    fi
    prev="$f"
  done
  echo "$out: $(find "$out" -type f | wc -l) inputs from $# files"
}

fixtures=()
while IFS= read -r -d '' f; do fixtures+=("$f"); done \
  < <(find ../tests/fixtures -name '*.nix' -print0 | sort -z)
seeds seeds "${fixtures[@]}"

# Module trees for `extract` (default.nix, a.nix, b.nix in that order):
# options declared across files that import themselves and each other.
tree() { local name=$1; shift; printf '%s\0' "$@" | head -c -1 > "seeds/extract/$name"; }
tree self-import '{ lib, ... }: { imports = [ ./default.nix ]; options.a = lib.mkOption { type = lib.types.int; }; }'
tree siblings \
  '{ imports = [ ./a.nix ]; }' \
  '{ lib, ... }: { imports = [ ./b.nix ]; options.x.y = lib.mkEnableOption "y"; }' \
  '{ lib, ... }: { imports = [ ./a.nix ./default.nix ]; options.x.z = lib.mkOption { type = lib.types.attrsOf (lib.types.submodule { options.n = lib.mkOption { default = 1; }; }); }; }'
tree shared-types \
  '{ lib, ... }: let t = import ./a.nix lib; in { options.p = lib.mkOption { type = t.port; default = 22; }; }' \
  'lib: { port = lib.types.ints.between 1 65535; list = lib.types.listOf (import ./a.nix lib).port; }'

if [ -n "${MICROS_SRC:-}" ] && [ -d "$MICROS_SRC/micros/modules" ]; then
  upstream=()
  while IFS= read -r -d '' f; do upstream+=("$f"); done \
    < <(find "$MICROS_SRC/micros/modules" -name '*.nix' -size -64k -print0 | sort -z)
  seeds seeds-upstream "${upstream[@]}"
fi
