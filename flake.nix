{
  description = "micros-lsp: the language server, checker and documentation generator for MicrOS configurations";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = {
    self,
    nixpkgs,
  }: let
    inherit (nixpkgs) lib;
    systems = ["x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin"];
    forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    app = package: program: {
      type = "app";
      program = "${package}/bin/${program}";
    };
  in {
    # `pkgs.micros-lsp`, built from this checkout.
    overlays.default = final: _prev: {
      micros-lsp = final.callPackage ./nix/package.nix {};
    };

    packages = forAllSystems (pkgs: rec {
      # micros, micros-lsp and micros-docgen.
      micros-lsp = pkgs.callPackage ./nix/package.nix {};
      default = micros-lsp;
    });

    apps = forAllSystems (pkgs: let
      package = self.packages.${pkgs.stdenv.hostPlatform.system}.micros-lsp;
    in {
      default = app package "micros";
      micros = app package "micros";
      micros-lsp = app package "micros-lsp";
      micros-docgen = app package "micros-docgen";
    });

    devShells = forAllSystems (pkgs: {
      default = pkgs.mkShell {
        inputsFrom = [self.packages.${pkgs.stdenv.hostPlatform.system}.micros-lsp];
        packages = [pkgs.clippy pkgs.rustfmt pkgs.rust-analyzer];
      };
    });
  };
}
