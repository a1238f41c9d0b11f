#!/usr/bin/env bash
# micros check: its tests again with the official SARIF 2.1.0 schema (from
# Microsoft's npm package @microsoft/sarif-matcher-utils, fetched here, never
# committed), a run on the fixture configurations, and the 1,000-file
# benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf -- '--- %s\n' "$*"; }

schema_package="@microsoft/sarif-matcher-utils@1.0.0-beta.0"
schema_dir="${TMPDIR:-/tmp}/micros-ci-sarif-schema"
schema="$schema_dir/package/lib/schemas/sarif-2.1.0-rtm.5.json"
if [ ! -s "$schema" ]; then
  if ! command -v npm >/dev/null; then
    say "apt-get install nodejs npm"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  say "npm pack $schema_package (the SARIF 2.1.0 schema)"
  rm -rf "$schema_dir"
  mkdir -p "$schema_dir"
  (cd "$schema_dir" && npm pack --silent --loglevel=error "$schema_package" >/dev/null && tar xzf ./*.tgz)
fi

say "cli_check tests, SARIF validated against $schema"
SARIF_SCHEMA="$schema" cargo test -q -p micros-lsp --test cli_check -- --nocapture

say "micros check on the fixture configuration (clean: exit 0)"
cargo build --release -q -p micros-lsp --bin micros
micros=target/release/micros
$micros check --micros tests/fixtures/micros --nixpkgs tests/fixtures/nixpkgs tests/fixtures/user

say "micros check on the broken fixtures (findings: exit 1)"
status=0
$micros check --micros tests/fixtures/micros --nixpkgs tests/fixtures/nixpkgs \
  --format github tests/fixtures/broken || status=$?
if [ "$status" -ne 1 ]; then
  echo "error: expected exit status 1 for tests/fixtures/broken, got $status" >&2
  exit 1
fi

say "benchmark: 1,000 configuration files"
cargo bench -q -p micros-lsp --bench check
