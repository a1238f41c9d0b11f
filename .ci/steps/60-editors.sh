#!/usr/bin/env bash
# Editors: real clients (Neovim, Emacs with eglot) against the real server,
# the Helix snippet, and the VS Code extension's build, tests and package.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf -- '--- %s\n' "$*"; }

# Debian packages, installed once (quietly) when missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "apt-get install ${missing[*]}"
  local start=$SECONDS
  if [ ! -e /tmp/.micros-ci-apt-updated ]; then
    apt-get update -qq >/dev/null && touch /tmp/.micros-ci-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "installed in $((SECONDS - start)) s"
}

say "build the server"
cargo build --release -q -p micros-lsp --bin micros-lsp
server="$PWD/target/release/micros-lsp"

say "helix: languages.toml"
python3 editors/helix/test/check_languages.py

say "neovim: headless real-client test"
apt_install neovim
editors/neovim/test/run.sh "$server"

say "emacs: batch real-client test with eglot"
apt_install emacs-nox elpa-eglot
editors/emacs/test/run.sh "$server"

say "neovim and emacs with their UI in tmux (what editors/record.sh records for the book)"
apt_install tmux
captures="$(mktemp -d)"
editors/record.sh "$server" "$captures"
rm -rf "$captures"

say "vscode: npm ci, build, unit tests, package"
if ! command -v node >/dev/null; then
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "error: the VS Code extension's tooling (@vscode/vsce 3) needs Node 20 or later; this machine has $(node --version)" >&2
  exit 1
fi
(
  cd editors/vscode
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
  log="$(mktemp)"
  # The real-server test runs against the server built above, never skipped.
  MICROS_LSP="$server" npm test --silent >"$log" 2>&1 || { cat "$log"; exit 1; }
  grep -E '^# (tests|pass|fail|skipped) ' "$log"
  grep -q '^# skipped 0$' "$log" || { cat "$log"; echo "error: a VS Code test was skipped" >&2; exit 1; }
  rm -f "$log"
  npm run --silent package
  ls -l micros-lsp.vsix
)
