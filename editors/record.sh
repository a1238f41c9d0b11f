#!/usr/bin/env bash
# Record Neovim's and Emacs's screens (diagnostic, hover, completion) from a
# real run of their client tests in tmux, for the book's editor chapters.
#
#   editors/record.sh [path/to/micros-lsp] [output dir, default book/src/editors/captures]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
server="${1:-$repo/target/release/micros-lsp}"
out="${2:-$repo/book/src/editors/captures}"
mkdir -p "$out"
RECORD="$out/neovim.txt" "$repo/editors/neovim/test/run.sh" "$server"
RECORD="$out/emacs.txt" "$repo/editors/emacs/test/run.sh" "$server"
# The hover's declaration link names the checkout; show it relative.
sed -i "s|file://$repo/|file:///.../micros-lsp/|g; s|$repo/|.../micros-lsp/|g" "$out/neovim.txt" "$out/emacs.txt"
