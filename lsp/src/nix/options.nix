# The option set of a MicrOS system, as options.json entries, for
# `micros options --eval`. Written for this project; called with `--argstr`.
#
# Either `flake` (a flake reference whose `micros` input is used, with the
# flake's inputs as `specialArgs.inputs`), or `micros` and `nixpkgs` (source
# trees: micros's flake.nix is called with a nixpkgs input built from the
# tree's `lib/`). `entry`: an extra module (the user's configuration), or "".
#
# `pkgs` is never evaluated: option declarations do not need it, and a
# nixpkgs tree without `pkgs/` must work. Defaults and examples that need it
# (or fail otherwise) are reported as not evaluable instead of failing the set.
{
  flake ? "",
  micros ? "",
  nixpkgs ? "",
  entry ? "",
  system,
}: let
  fromFlake = flake != "";
  userFlake = builtins.getFlake flake;

  nixpkgsInput =
    if fromFlake
    then userFlake.inputs.micros.inputs.nixpkgs or userFlake.inputs.nixpkgs
    else {
      outPath = nixpkgs;
      lib = import (nixpkgs + "/lib");
    };

  # micros's own flake outputs, called with stand-ins for the inputs that
  # declaring options never touches.
  microsInput =
    if fromFlake
    then userFlake.inputs.micros
    else let
      outputs = (import (micros + "/flake.nix")).outputs inputs;
      inputs = {
        self = outputs // {outPath = micros;};
        nixpkgs = nixpkgsInput;
        oci-tool = throw "the oci-tool input is not available while listing options";
        nixos-core = throw "the nixos-core input is not available while listing options";
        ndg = throw "the ndg input is not available while listing options";
      };
    in
      inputs.self;

  inherit (nixpkgsInput) lib;

  # Listing declarations must not depend on the definitions being right:
  # no `pkgs`, and no check for definitions of undeclared options.
  listing = {
    _module.args.pkgs = lib.mkForce (throw "pkgs is not evaluated while listing options");
    _module.check = lib.mkForce false;
  };

  userModules =
    if entry == ""
    then []
    else if fromFlake
    then [(userFlake.outPath + "/${entry}")]
    else [(/. + entry)];

  evaluated = microsInput.lib.microsSystem {
    specialArgs = {inputs = if fromFlake then userFlake.inputs else {};};
    modules = userModules ++ [listing {nixpkgs.hostPlatform.system = system;}];
  };

  tryText = literal: let
    attempt = builtins.tryEval (builtins.deepSeq literal literal);
  in
    if attempt.success
    then attempt.value
    else {_type = "notEvaluable";};

  render = option:
    option
    // lib.optionalAttrs (option ? default) {default = tryText option.default;}
    // lib.optionalAttrs (option ? example) {example = tryText option.example;};
in {
  roots = {
    micros = toString microsInput.outPath;
    nixpkgs = toString nixpkgsInput.outPath;
    user =
      if fromFlake
      then toString userFlake.outPath
      else "";
  };
  options = map render (lib.optionAttrSetToDocList evaluated.options);
}
