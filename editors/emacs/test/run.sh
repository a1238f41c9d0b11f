#!/usr/bin/env bash
# Emacs (batch) with eglot and micros.el against the real micros-lsp, on the
# editor fixture configuration. Needs emacs 27+ with eglot and a built server.
#
#   editors/emacs/test/run.sh [path/to/micros-lsp]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
server="$(realpath "${1:-$repo/target/release/micros-lsp}")"
[ -x "$server" ] || { echo "error: no micros-lsp at $server (cargo build --release -p micros-lsp --bin micros-lsp)" >&2; exit 2; }
command -v emacs >/dev/null || { echo "error: emacs is not installed" >&2; exit 2; }

# A scratch workspace with no flake.lock: micros.el's settings are the only
# way the server can find the option sources.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo/editors/fixture/configuration.nix" "$work/"

export MICROS_LSP="$server"
export MICROS_TEST_SOURCE="$repo/tests/fixtures/micros"
export MICROS_TEST_NIXPKGS="$repo/tests/fixtures/nixpkgs"
unset MICROS_SRC MICROS_NIXPKGS
export HOME="$work/home"
mkdir -p "$HOME"

cd "$work"
echo "$(emacs --version | head -1), server $server"
# -Q skips site-start, which is where Debian puts elpa packages on the load
# path; package-initialize brings eglot (elpa-eglot, or Emacs 29's own) back.
timeout 120 emacs --batch -Q \
  --eval "(progn (require 'package) (setq package-directory-list (append package-directory-list '(\"/usr/share/emacs/site-lisp/elpa\"))) (package-initialize))" \
  -L "$repo/editors/emacs" -l "$here/client-test.el" configuration.nix
