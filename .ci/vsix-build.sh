#!/usr/bin/env bash
# One platform's VS Code extension with the server inside, as rust-analyzer
# ships: `vsix-build.sh VSCODE_TARGET SERVER OUT_DIR` puts the SERVER
# executable at server/micros-lsp in the extension (where src/serverPath.ts
# looks first, after the setting) and writes
# OUT_DIR/micros-lsp-VSCODE_TARGET.vsix. Used by .github/workflows/release.yml
# and, for linux-x64, by CI here (.ci/steps/85-release.sh).
set -euo pipefail
vscode_target="$1"
server="$(realpath "$2")"
out="$3"
mkdir -p "$out"
out="$(realpath "$out")"
cd "$(dirname "$0")/../editors/vscode"

name=micros-lsp
case "$vscode_target" in win32-*) name=micros-lsp.exe ;; esac
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
# The server goes in only for the packaging: server/ is ignored by git.
trap 'rm -rf server' EXIT
rm -rf server
mkdir server
install -m 0755 "$server" "server/$name"
# vscode:prepublish builds dist/extension.js first.
npx vsce package --target "$vscode_target" --skip-license --allow-missing-repository \
  -o "$out/micros-lsp-$vscode_target.vsix"
