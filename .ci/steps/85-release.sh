#!/usr/bin/env bash
# Releases, hooks and crates, as far as this machine allows:
# - the x86_64 Linux release archive, built by the release workflow's own
#   script (static musl when the target and Debian's musl-tools install,
#   otherwise gnu), its binaries run;
# - the linux-x64 VS Code extension with that server inside, built by the
#   workflow's script, unpacked, and its server found by the extension's own
#   lookup and answering initialize;
# - the pre-commit hooks run by pre-commit on a repository with a typo: for
#   an installed micros (language: system), and built by pre-commit itself
#   (language: rust, `cargo install --path .` of the top-level package);
# - `cargo package --workspace`: every crate packs, with its README and
#   LICENSE.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf -- '--- %s\n' "$*"; }
took() { say "$1: $((SECONDS - $2)) s"; }

target=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target" >/dev/null 2>&1 || target=x86_64-unknown-linux-gnu
fi
if [ "$target" != x86_64-unknown-linux-gnu ] && ! command -v musl-gcc >/dev/null; then
  say "apt-get install musl-tools"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl-tools >/dev/null ||
    target=x86_64-unknown-linux-gnu
fi
say "release archive for $target (.ci/release-build.sh, as the release workflow runs it)"
start=$SECONDS
dist="$(mktemp -d)"
trap 'rm -rf "$dist"' EXIT
bash .ci/release-build.sh "$target" "$dist"
mkdir -p "$dist/unpacked"
tar -xzf "$dist/micros-lsp-$target.tar.gz" -C "$dist/unpacked"
for bin in micros micros-lsp micros-docgen; do
  "$dist/unpacked/$bin" --version
done
if [ "$target" = x86_64-unknown-linux-musl ]; then
  # Static: no program interpreter, so it runs on any Linux.
  if readelf -l "$dist/unpacked/micros" | grep -q 'Requesting program interpreter'; then
    echo "error: the musl build is not static" >&2
    exit 1
  fi
  say "static: no program interpreter"
fi
took "release archive" "$start"

say "VS Code: the linux-x64 .vsix with this server inside (.ci/vsix-build.sh)"
start=$SECONDS
bash .ci/vsix-build.sh linux-x64 "$dist/unpacked/micros-lsp" "$dist" >/dev/null
vsix="$dist/micros-lsp-linux-x64.vsix"
unzip -l "$vsix"
# An executable server, as VS Code will unpack it.
zipinfo "$vsix" extension/server/micros-lsp | grep -q '^-rwxr-xr-x' || {
  echo "error: $vsix has no executable extension/server/micros-lsp" >&2
  exit 1
}
(
  cd editors/vscode
  npx tsc -p tsconfig.test.json
  log="$(mktemp)"
  MICROS_VSIX="$vsix" node --test out/scripts/checkVsix.js >"$log" 2>&1 || { cat "$log"; exit 1; }
  grep -E '^# (pass|fail) ' "$log"
  rm -f "$log"
)
(cd "$dist" && sha256sum "micros-lsp-$target.tar.gz" micros-lsp-linux-x64.vsix > SHA256SUMS && sha256sum --check SHA256SUMS)
took "vsix" "$start"

if ! command -v pre-commit >/dev/null; then
  python3 -m pip install -q pre-commit >/dev/null 2>&1 || pip install -q pre-commit >/dev/null
fi
repo="$PWD"
demo="$dist/demo"
mkdir -p "$demo"
(
  cd "$demo"
  git init -q .
  printf '{ services.getty.enabel = true; }\n' > typo.nix
  printf '{ services.getty.enable = true; }\n' > good.nix
  git add -A
)
# pre-commit on the demo repository: the hook must fail, naming the typo.
hook_finds_the_typo() {
  local hook="$1" status=0
  shift
  (cd "$demo" && env "$@" MICROS_SRC="$repo/tests/fixtures/micros" MICROS_NIXPKGS="$repo/tests/fixtures/nixpkgs" \
    pre-commit try-repo "$repo" "$hook" --all-files) > "$dist/hook.txt" 2>&1 || status=$?
  cat "$dist/hook.txt"
  if [ "$status" -ne 1 ] || ! grep -q 'services.getty.enabel' "$dist/hook.txt"; then
    echo "error: the $hook hook did not report the typo (exit $status)" >&2
    exit 1
  fi
}
say "pre-commit: the micros-check-system hook (language: system)"
start=$SECONDS
hook_finds_the_typo micros-check-system PATH="$dist/unpacked:$PATH"
took "micros-check-system" "$start"
# pre-commit's own cargo install: offline, so that the versions come from the
# registry cache this workspace's build filled (cargo install reads no
# Cargo.lock), and into this repository's target directory, whose release
# dependencies the steps before built: only the workspace's crates are
# compiled again (each try-repo is a new clone): 2.2 minutes of CPU here,
# against 5.4 from scratch.
say "pre-commit: the micros-check hook (language: rust, built by pre-commit)"
start=$SECONDS
hook_finds_the_typo micros-check CARGO_NET_OFFLINE=true CARGO_TARGET_DIR="$repo/target"
took "micros-check" "$start"
say "cargo package --workspace (the three crates; micros-pre-commit is the hook's, never published)"
start=$SECONDS
cargo package --workspace --exclude micros-pre-commit --locked --allow-dirty --no-verify
for crate in micros-options micros-lsp micros-docgen; do
  files="$(cargo package --locked --allow-dirty --list -p "$crate")"
  for needed in Cargo.toml README.md LICENSE src/lib.rs; do
    grep -qx "$needed" <<<"$files" || { echo "error: the $crate package has no $needed" >&2; exit 1; }
  done
done
took "cargo package" "$start"
