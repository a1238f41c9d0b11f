#!/usr/bin/env bash
# Neovim against the real micros-lsp: headless, with the plugin, on the
# editor fixture configuration. Needs nvim (0.7+) and a built server.
#
#   editors/neovim/test/run.sh [path/to/micros-lsp]
#
# With RECORD=<file>, runs Neovim's UI in tmux instead and writes the screens
# (diagnostic, hover, completion) to <file>.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
server="$(realpath "${1:-$repo/target/release/micros-lsp}")"
[ -x "$server" ] || { echo "error: no micros-lsp at $server (cargo build --release -p micros-lsp --bin micros-lsp)" >&2; exit 2; }
command -v nvim >/dev/null || { echo "error: nvim is not installed" >&2; exit 2; }

# A scratch workspace with no flake.lock: the plugin's settings are the only
# way the server can find the option sources.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo/editors/fixture/configuration.nix" "$work/"
mkdir -p "$work/.git"

export MICROS_LSP="$server"
export MICROS_TEST_SOURCE="$repo/tests/fixtures/micros"
export MICROS_TEST_NIXPKGS="$repo/tests/fixtures/nixpkgs"
unset MICROS_SRC MICROS_NIXPKGS
# Keep the user's configuration and plugins out of it.
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state"

cd "$work"
if [ -z "${RECORD:-}" ]; then
  echo "$(nvim --version | head -1), server $server"
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile $here/client_test.lua" configuration.nix
  exit
fi

command -v tmux >/dev/null || { echo "error: tmux is not installed" >&2; exit 2; }
record="$(realpath "$RECORD")"
: >"$record"
: >"$record.log"
session="micros-nvim-$$"
tmux -L "$session" new-session -d -s "$session" -x 112 -y 19 \
  "env MICROS_TEST_CAPTURE='$record' nvim -u NONE -i NONE -n \
     --cmd 'set shortmess+=I noshowmode laststatus=0 signcolumn=yes' \
     -c 'lua vim.defer_fn(function() vim.cmd(\"luafile $here/client_test.lua\") end, 200)' \
     configuration.nix; echo \$? >'$work/status'"
for _ in $(seq 1 1200); do
  [ -e "$work/status" ] && break
  sleep 0.1
done
tmux -L "$session" kill-server 2>/dev/null || true
status="$(cat "$work/status" 2>/dev/null || echo timeout)"
cat "$record.log"
rm -f "$record.log"
[ "$status" = 0 ] || { echo "FAIL: neovim in tmux exited with $status" >&2; exit 1; }
echo "recorded $(grep -c '^--- ' "$record") screens in $record"
