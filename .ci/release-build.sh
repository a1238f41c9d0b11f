#!/usr/bin/env bash
# One platform's release archive: `release-build.sh TARGET OUT_DIR` builds
# micros, micros-lsp and micros-docgen for TARGET in release mode and packs
# them as OUT_DIR/micros-lsp-TARGET.tar.gz. Used by
# .github/workflows/release.yml and, for x86_64 Linux, by CI here.
set -euo pipefail
target="$1"
out="$2"
cd "$(dirname "$0")/.."

case "$target" in
  *-linux-musl)
    # mimalloc and ring compile C: with musl's compiler wrapper, and the
    # binary is linked statically (musl's default).
    export "CC_${target//-/_}=musl-gcc"
    ;;
esac
cargo build --release --locked --target "$target" -p micros-lsp -p micros-docgen
bin="target/$target/release"
mkdir -p "$out"
tar -czf "$out/micros-lsp-$target.tar.gz" -C "$bin" micros micros-lsp micros-docgen
ls -l "$out/micros-lsp-$target.tar.gz"
