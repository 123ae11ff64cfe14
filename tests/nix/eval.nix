# Evaluates nix/module.nix and nix/package.nix with the stand-ins, for NixTest:
#   nix-instantiate --eval --strict --json tests/nix/eval.nix --argstr scenarios '{"name": {...}}'
# A scenario is { settings = { <option> = value; ... }; autoPrune = bool; }: the module's options,
# set as a NixOS configuration would (unset ones take their default, every value is type-checked),
# and virtualisation.docker.autoPrune.enable. packageOut replaces the package with a built one.
{
  scenarios ? "{}",
  rejected ? "{}",
  packageOut ? null,
  m2 ? "/nonexistent-m2",
  jdk ? "/nonexistent-jdk",
  shell ? "/bin/sh",
}:

let
  standIns = import ./stand-ins.nix { inherit m2 jdk shell; };
  inherit (standIns) lib pkgs utils resolve;

  isOption = o: (o._type or null) == "option";

  # every declared option's value (nested option sets, e.g. watch.enable, included), type-checked
  resolveOptions =
    path: declared: given:
    builtins.mapAttrs (
      name: option:
      if isOption option then
        let
          value = given.${name} or option.default;
        in
        if option.type.check value then value
        else throw "${path}.${name}: ${builtins.toJSON value} is not a ${option.type.name}"
      else
        resolveOptions "${path}.${name}" option (given.${name} or { })
    ) declared;

  # the options as "name" or "set.name" = option, for their documentation
  flatOptions =
    prefix: declared:
    builtins.foldl' (
      acc: name:
      let
        option = declared.${name};
      in
      acc // (if isOption option then { "${prefix}${name}" = option; } else flatOptions "${prefix}${name}." option)
    ) { } (builtins.attrNames declared);

  evalModule =
    { settings ? { }, autoPrune ? false }:
    let
      settings' = settings // (if packageOut == null then { } else {
        package = { type = "derivation"; outPath = packageOut; };
      });
      module = import ../../nix/module.nix { inherit config lib pkgs utils; };
      declared = module.options.services.ci-docker-prune;
      unknown = builtins.attrNames (removeAttrs settings' (builtins.attrNames declared));
      cfg = resolveOptions "services.ci-docker-prune" declared settings';
      config = {
        services.ci-docker-prune = cfg;
        virtualisation.docker.autoPrune.enable = autoPrune;
      };
    in
    if unknown != [ ] then throw "no such option: ${toString unknown}"
    else builtins.deepSeq cfg (resolve module.config);

  module = import ../../nix/module.nix { config = { }; inherit lib pkgs utils; };

  package = pkgs.callPackage ../../nix/package.nix { };

  # the flake's outputs, with a stand-in nixpkgs input
  flake = import ../../flake.nix;
  flakeOutputs = flake.outputs {
    self = flakeOutputs;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs);
    };
  };
in
{
  options = builtins.mapAttrs (name: option: {
    type = option.type.name;
    description = option.description or null;
    default = if option ? defaultText then option.defaultText.text else option.default;
    example = option.example or null;
  }) (flatOptions "" module.options.services.ci-docker-prune);

  package = {
    inherit (package) pname version;
    out = package.outPath;
    inherit (package.passthru) commands jars;
    src = toString package.src.root;
    fileset = map toString package.src.fileset;
  };

  flake = {
    nixpkgs = flake.inputs.nixpkgs.url;
    packages = builtins.mapAttrs (_: builtins.mapAttrs (_: p: p.outPath)) flakeOutputs.packages;
    inherit (flakeOutputs) apps;
    nixosModules = builtins.mapAttrs (_: builtins.isFunction) flakeOutputs.nixosModules;
  };

  scenarios = builtins.mapAttrs (_: evalModule) (builtins.fromJSON scenarios);

  # true when the module system would refuse the scenario (a value of the wrong type)
  rejected = builtins.mapAttrs (
    _: scenario: !(builtins.tryEval (builtins.deepSeq (evalModule scenario) true)).success
  ) (builtins.fromJSON rejected);
}
