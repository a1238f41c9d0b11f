{
  description = "A MicrOS system";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs?ref=nixos-unstable";

    # MicrOS: `microsSystem` and the modules it evaluates. Following our
    # nixpkgs keeps one nixpkgs for the whole image.
    micros = {
      url = "github:snugnug/micros";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = {micros, ...} @ inputs: {
    # `nix build`: a bootable ISO image.
    packages.x86_64-linux.default =
      (micros.lib.microsSystem {
        # Every module can take `inputs` as an argument.
        specialArgs = {inherit inputs;};
        modules = [
          ./configuration.nix
          ./hardware-configuration.nix
          {nixpkgs.hostPlatform.system = "x86_64-linux";}
        ];
      }).config.system.build.image;

    # `nix build .#container`: an OCI image. A container's kernel, file
    # systems and network belong to its runtime, so the hardware module
    # stays out.
    packages.x86_64-linux.container =
      (micros.lib.microsSystem {
        specialArgs = {inherit inputs;};
        modules = [
          ./configuration.nix
          {
            boot.isContainer = true;
            nixpkgs.hostPlatform.system = "x86_64-unknown-linux-musl";
          }
        ];
      }).config.system.build.ociImage;
  };
}
