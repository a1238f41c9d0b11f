# MicrOS's documentation site as a plain derivation: micros-docgen over the
# repository's docs/ with the options of its own modules. Put this output
# into micros's flake.nix (with the micros-lsp input) and run
# `nix build .#docs`; the site is in ./result.
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    micros-lsp = {
      url = "github:snugnug/micros-lsp";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = {
    self,
    nixpkgs,
    micros-lsp,
  }: let
    system = "x86_64-linux";
    pkgs = nixpkgs.legacyPackages.${system};
  in {
    packages.${system}.docs =
      pkgs.runCommand "micros-docs" {
        nativeBuildInputs = [micros-lsp.packages.${system}.default];
      } ''
        micros-docgen -q \
          --micros ${self} --nixpkgs ${nixpkgs} \
          --pages ${self}/docs \
          --title "MicrOS documentation" \
          --repo-url https://github.com/snugnug/micros/blob/${self.rev or "master"} \
          --nixpkgs-url https://github.com/NixOS/nixpkgs/blob/${nixpkgs.rev or "master"} \
          --out $out
      '';
  };
}
