{
  description = "A MicrOS container";

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
    # `nix build`: an OCI image. Its kernel, file systems and network
    # belong to the container runtime, so there is no hardware module.
    packages.x86_64-linux.default =
      (micros.lib.microsSystem {
        # Every module can take `inputs` as an argument.
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
