#!/usr/bin/env bash
# Releases and hooks, as far as this machine allows: the x86_64 Linux
# release archive built by the release workflow's own script (static musl
# when the target and Debian's musl-tools install, otherwise gnu), its
# binaries run; and the pre-commit hook (language: system) run by pre-commit
# on a repository with a typo.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf -- '--- %s\n' "$*"; }

target=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target" >/dev/null 2>&1 || target=x86_64-unknown-linux-gnu
fi
if [ "$target" != x86_64-unknown-linux-gnu ] && ! command -v musl-gcc >/dev/null; then
  say "apt-get install musl-tools"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl-tools >/dev/null ||
    target=x86_64-unknown-linux-gnu
fi
say "release archive for $target (.ci/release-build.sh, as the release workflow runs it)"
dist="$(mktemp -d)"
trap 'rm -rf "$dist"' EXIT
bash .ci/release-build.sh "$target" "$dist"
mkdir -p "$dist/unpacked"
tar -xzf "$dist/micros-lsp-$target.tar.gz" -C "$dist/unpacked"
for bin in micros micros-lsp micros-docgen; do
  "$dist/unpacked/$bin" --version
done
if [ "$target" = x86_64-unknown-linux-musl ]; then
  # Static: no program interpreter, so it runs on any Linux.
  if readelf -l "$dist/unpacked/micros" | grep -q 'Requesting program interpreter'; then
    echo "error: the musl build is not static" >&2
    exit 1
  fi
  say "static: no program interpreter"
fi
(cd "$dist" && sha256sum "micros-lsp-$target.tar.gz" > SHA256SUMS && sha256sum --check SHA256SUMS)

say "pre-commit: the micros-check-system hook on a repository with a typo"
if ! command -v pre-commit >/dev/null; then
  python3 -m pip install -q pre-commit >/dev/null 2>&1 || pip install -q pre-commit >/dev/null
fi
repo="$PWD"
demo="$dist/demo"
mkdir -p "$demo"
(
  cd "$demo"
  git init -q .
  printf '{ services.getty.enabel = true; }\n' > typo.nix
  printf '{ services.getty.enable = true; }\n' > good.nix
  git add -A
  status=0
  PATH="$dist/unpacked:$PATH" MICROS_SRC="$repo/tests/fixtures/micros" MICROS_NIXPKGS="$repo/tests/fixtures/nixpkgs" \
    pre-commit try-repo "$repo" micros-check-system --all-files > out.txt 2>&1 || status=$?
  cat out.txt
  [ "$status" -eq 1 ] && grep -q 'services.getty.enabel' out.txt || {
    echo "error: the hook did not report the typo (exit $status)" >&2
    exit 1
  }
)
