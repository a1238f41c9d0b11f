#!/usr/bin/env bash
# Real Nix: `micros build` on the offline test flake (tests/fixtures/
# flake-build) and `micros options --eval` / `--compare` (against the upstream
# trees when MICROS_SRC and MICROS_NIXPKGS are set; those tests skip with a
# message otherwise). Debian's nix-bin, single-user as root: no daemon, no
# build users, no sandbox, no binary cache (everything is offline).
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf -- '--- %s\n' "$*"; }

if ! command -v nix >/dev/null; then
  say "apt-get install nix-bin"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nix-bin >/dev/null
fi
# Root owns the store directly (no NIX_REMOTE, so no daemon is needed).
mkdir -p /nix/store /nix/var/nix
unset NIX_REMOTE
export NIX_CONFIG="experimental-features = nix-command flakes
sandbox = false
build-users-group =
substituters =
"
say "$(nix --version)"

say "process, log and evaluation units"
cargo test -q -p micros-lsp --lib -- nix:: cli::

say "micros build with real Nix (success, build failure, evaluation error, missing output, timeout)"
cargo test -q -p micros-lsp --test cli_build -- --nocapture

say "micros options --eval and --compare with real Nix"
cargo test -q -p micros-lsp --test cli_eval -- --nocapture

say "packaging: the flake against a stand-in nixpkgs, the docs derivation, the GitHub Action's steps (with and without Nix), fetch-sources"
cargo test -q -p micros-docgen --test flake -- --nocapture
cargo test -q -p micros-lsp --test action --test cli_fetch -- --nocapture

say "micros build of the test flake, as a user sees it"
cargo build --release -q -p micros-lsp --bin micros
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp tests/fixtures/flake-build/flake.nix tests/fixtures/flake-build/configuration.nix "$work"/
sed -i "s/\"demo\"/\"ci-$$\"/" "$work/configuration.nix"
(cd "$work" && "$root/target/release/micros" build -- --no-link)
