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
editor=nvim
source "$repo/editors/test-lib.sh"

# A root marker, and the user's configuration and plugins kept out.
mkdir -p "$work/.git"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state"

cd "$work"
if [ -z "${RECORD:-}" ]; then
  echo "$(nvim --version | head -1), server $server"
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile $here/client_test.lua" configuration.nix
  exit
fi

# The test starts once the UI is up, so that its screens can be captured.
record_in_tmux "$RECORD" 112 19 \
  "nvim -u NONE -i NONE -n --cmd 'set shortmess+=I noshowmode laststatus=0 signcolumn=yes' \
     -c 'lua vim.defer_fn(function() vim.cmd(\"luafile $here/client_test.lua\") end, 200)' \
     configuration.nix"
