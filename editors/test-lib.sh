# Shared by the real-client tests (sourced): the server, a scratch
# workspace, and running an editor's UI in tmux to record its screens.
#
# Before sourcing: `repo` (the checkout), `editor` (a command that must
# exist). Takes the server path from $1. Sets `server`, `work` (the scratch
# workspace, removed on exit, holding configuration.nix and no flake.lock:
# the editor's settings are the only way the server can find the option
# sources) and exports what the tests read.

server="$(realpath "${1:-$repo/target/release/micros-lsp}")"
[ -x "$server" ] || { echo "error: no micros-lsp at $server (cargo build --release -p micros-lsp --bin micros-lsp)" >&2; exit 2; }
command -v "$editor" >/dev/null || { echo "error: $editor is not installed" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo/editors/fixture/configuration.nix" "$work/"

export MICROS_LSP="$server"
export MICROS_TEST_SOURCE="$repo/tests/fixtures/micros"
export MICROS_TEST_NIXPKGS="$repo/tests/fixtures/nixpkgs"
unset MICROS_SRC MICROS_NIXPKGS

# record_in_tmux FILE COLUMNS ROWS COMMAND: run COMMAND (an editor with its
# UI, in $work) in a detached tmux of that size with MICROS_TEST_CAPTURE=FILE,
# wait for it (at most two minutes), print the test's log, fail if it did.
record_in_tmux() {
  command -v tmux >/dev/null || { echo "error: tmux is not installed" >&2; exit 2; }
  local record session status
  record="$(realpath "$1")"
  : >"$record"
  : >"$record.log"
  session="micros-$editor-$$"
  tmux -L "$session" new-session -d -s "$session" -x "$2" -y "$3" -c "$work" \
    "env MICROS_TEST_CAPTURE='$record' $4; echo \$? >'$work/status'"
  for _ in $(seq 1 1200); do
    [ -e "$work/status" ] && break
    sleep 0.1
  done
  tmux -L "$session" kill-server 2>/dev/null || true
  status="$(cat "$work/status" 2>/dev/null || echo timeout)"
  cat "$record.log"
  rm -f "$record.log"
  [ "$status" = 0 ] || { echo "FAIL: $editor in tmux exited with $status" >&2; exit 1; }
  echo "recorded $(grep -c '^--- ' "$record") screens in $record"
}
