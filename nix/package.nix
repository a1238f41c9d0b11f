# The workspace's three programs, built with nixpkgs' Rust tooling from
# Cargo.lock (every crate fetched by its checksum there).
{
  lib,
  rustPlatform,
}: let
  workspace = (builtins.fromTOML (builtins.readFile ../Cargo.toml)).workspace.package;
in
  rustPlatform.buildRustPackage {
    pname = "micros-lsp";
    inherit (workspace) version;

    # Only what the build reads: the crates, their fixtures, the lock.
    src = lib.fileset.toSource {
      root = ../.;
      fileset = lib.fileset.unions [
        ../Cargo.toml
        ../Cargo.lock
        ../options-extract
        ../lsp
        ../docgen
        ../tests/fixtures
      ];
    };
    cargoLock.lockFile = ../Cargo.lock;

    cargoBuildFlags = ["--package" "micros-lsp" "--package" "micros-docgen"];
    # The unit tests need nothing outside the build; the integration tests
    # want Chromium, Nix and the upstream trees.
    cargoTestFlags = ["--workspace" "--lib"];

    meta = {
      description = "Language server, checker and documentation generator for MicrOS configurations";
      homepage = workspace.repository;
      license = lib.licenses.mit;
      mainProgram = "micros";
      platforms = lib.platforms.unix;
    };
  }
