#!/usr/bin/env bash
# Emacs (batch) with eglot and micros.el against the real micros-lsp, on the
# editor fixture configuration. Needs emacs 27+ with eglot and a built server.
#
#   editors/emacs/test/run.sh [path/to/micros-lsp]
#
# With RECORD=<file>, runs Emacs's UI in tmux instead and writes the screens
# (diagnostic, hover, completion) to <file>.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
editor=emacs
source "$repo/editors/test-lib.sh"

export HOME="$work/home"
mkdir -p "$HOME"
# -Q skips site-start, which is where Debian puts elpa packages on the load
# path; package-initialize brings eglot (elpa-eglot, or Emacs 29's own) back.
cat >"$work/init.el" <<'ELISP'
(require 'package)
(setq package-directory-list (append package-directory-list '("/usr/share/emacs/site-lisp/elpa")))
(package-initialize)
ELISP

cd "$work"
if [ -z "${RECORD:-}" ]; then
  echo "$(emacs --version | head -1), server $server"
  timeout 120 emacs --batch -Q -l "$work/init.el" \
    -L "$repo/editors/emacs" -l "$here/client-test.el" configuration.nix
  exit
fi

record_in_tmux "$RECORD" 100 24 \
  "TERM=xterm emacs -nw -Q -l '$work/init.el' -L '$repo/editors/emacs' -l '$here/client-test.el' configuration.nix"
