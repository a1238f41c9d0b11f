#!/usr/bin/env bash
# The steps of the composite action (action.yml), one subcommand each, so
# they can be run and tested outside GitHub:
#   install  put a released `micros` on PATH, its checksum checked against the
#            release's SHA256SUMS (from MICROS_RELEASE_URL when set; skipped
#            when MICROS_BIN names a binary)
#   sources  the micros and nixpkgs trees the flake.lock pins: `nix flake
#            archive` when Nix is here, else `micros fetch-sources`, which
#            keeps an archive only when it matches the lock's narHash
#   check    `micros check --format sarif` into micros-check.sarif, and the
#            findings as workflow annotations; records the exit status
#   verdict  fail when the check found errors (or could not run)
# GitHub's files ($GITHUB_PATH, $GITHUB_ENV, $GITHUB_OUTPUT) are appended to;
# outside GitHub they default to files in $RUNNER_TEMP (or /tmp).
set -euo pipefail

temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
: "${GITHUB_PATH:=$temp/micros-action-path}"
: "${GITHUB_ENV:=$temp/micros-action-env}"
: "${GITHUB_OUTPUT:=$temp/micros-action-output}"

say() { printf '%s\n' "$*" >&2; }

micros_bin() {
  if [ -n "${MICROS_BIN:-}" ]; then
    printf '%s\n' "$MICROS_BIN"
  elif [ -x "$temp/micros-lsp/bin/micros" ]; then
    printf '%s\n' "$temp/micros-lsp/bin/micros"
  else
    command -v micros
  fi
}

# The release asset for this runner: micros-lsp-<target>.tar.gz.
target() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
    Darwin-x86_64) echo x86_64-apple-darwin ;;
    Darwin-arm64) echo aarch64-apple-darwin ;;
    *) say "error: no micros release for $(uname -s) $(uname -m)"; exit 2 ;;
  esac
}

install() {
  if [ -n "${MICROS_BIN:-}" ]; then
    say "using $MICROS_BIN"
    "$MICROS_BIN" --version >&2
    return
  fi
  local repository="${MICROS_REPOSITORY:-snugnug/micros-lsp}" version="${MICROS_VERSION:-latest}"
  local asset base
  asset="micros-lsp-$(target).tar.gz"
  if [ -n "${MICROS_RELEASE_URL:-}" ]; then
    # A mirror of the release assets (or a local copy: file://).
    base="$MICROS_RELEASE_URL"
  elif [ "$version" = latest ]; then
    base="https://github.com/$repository/releases/latest/download"
  else
    base="https://github.com/$repository/releases/download/$version"
  fi
  local dir="$temp/micros-lsp"
  mkdir -p "$dir/bin"
  say "downloading $base/$asset"
  curl --fail --silent --show-error --location --retry 3 -o "$temp/$asset" "$base/$asset"
  curl --fail --silent --show-error --location --retry 3 -o "$temp/SHA256SUMS" "$base/SHA256SUMS"
  # The checksum the release lists for this asset, and no other file.
  (cd "$temp" && grep " $asset\$" SHA256SUMS | sha256sum --check --strict -) >&2
  tar -xzf "$temp/$asset" -C "$dir/bin"
  echo "$dir/bin" >>"$GITHUB_PATH"
  "$dir/bin/micros" --version >&2
}

sources() {
  local flake="${MICROS_FLAKE:-.}"
  if [ ! -f "$flake/flake.lock" ]; then
    say "note: $flake has no flake.lock; micros check will look for the sources itself"
    return
  fi
  if command -v nix >/dev/null 2>&1; then
    say "nix flake archive (puts the locked inputs into the Nix store)"
    (cd "$flake" && nix --extra-experimental-features 'nix-command flakes' flake archive)
    return
  fi
  say "no Nix: micros fetch-sources (source archives checked against the lock's narHash)"
  "$(micros_bin)" fetch-sources --format env "$flake" >>"$GITHUB_ENV"
  # The later steps of this job read $GITHUB_ENV; a local run reads it here.
  if [ -z "${GITHUB_ACTIONS:-}" ]; then
    cat "$GITHUB_ENV" >&2
  fi
}

check() {
  local flake="${MICROS_FLAKE:-.}" sarif
  sarif="$(pwd)/micros-check.sarif"
  local args=()
  for code in ${MICROS_DENY:-}; do args+=(--deny "$code"); done
  if [ -n "${MICROS_OPTIONS:-}" ]; then args+=(--options "$MICROS_OPTIONS"); fi
  # shellcheck disable=SC2206 # paths are space-separated by design
  local paths=(${MICROS_PATHS:-})
  local micros status=0
  micros="$(micros_bin)"
  # The environment the sources step wrote, for a run outside GitHub.
  if [ -z "${GITHUB_ACTIONS:-}" ] && [ -f "$GITHUB_ENV" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$GITHUB_ENV"
    set +a
  fi
  (cd "$flake" && "$micros" check --format sarif "${args[@]}" "${paths[@]}") >"$sarif" || status=$?
  # The same findings as annotations on the pull request.
  (cd "$flake" && "$micros" check --format github "${args[@]}" "${paths[@]}") || true
  echo "sarif=$sarif" >>"$GITHUB_OUTPUT"
  echo "status=$status" >>"$GITHUB_OUTPUT"
  say "micros check exited with $status"
}

verdict() {
  case "${MICROS_STATUS:-}" in
    0) say "micros check: no errors" ;;
    1) say "error: micros check found errors (see the annotations or the code scanning alerts)"; exit 1 ;;
    "") say "error: micros check did not run"; exit 1 ;;
    *) say "error: micros check could not run (exit status $MICROS_STATUS)"; exit 1 ;;
  esac
}

case "${1:-}" in
  install | sources | check | verdict) "$1" ;;
  *) say "usage: run.sh install|sources|check|verdict"; exit 2 ;;
esac
