#!/usr/bin/env bash
# micros-docgen: installs Debian's chromium (the real-browser test) and the
# manual page readers (mandoc, groff, man), builds the project's book with
# the options reference into target/book, runs the site and browser tests
# with both required, and the documentation benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never

say() { printf -- '--- %s\n' "$*"; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v mandoc >/dev/null || missing+=(mandoc)
command -v groff >/dev/null || missing+=(groff-base)
command -v man >/dev/null || missing+=(man-db)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The upstream micros tree when given, otherwise the project's fixture tree.
sources=(--micros tests/fixtures/micros --nixpkgs tests/fixtures/nixpkgs)
if [ -n "${MICROS_SRC:-}" ] && [ -n "${MICROS_NIXPKGS:-}" ]; then
  sources=()
fi
say "the book with the options reference (target/book) and configuration.nix(5)"
mkdir -p target/book
cargo run --release -q -p micros-docgen -- "${sources[@]}" \
  --book book --out target/book --man target/book/configuration.nix.5 \
  --repo-url https://github.com/snugnug/micros/blob/main

say "site and browser tests (Chromium and the manual page readers required)"
MICROS_DOCGEN_CI=1 cargo test -q -p micros-docgen --test site --test browser -- --nocapture
say "screenshot: target/docgen-artifacts/search-getty.png"

say "benchmark: options.json to the built site"
cargo bench -q -p micros-docgen --bench docgen
