{
  description = "cc-ci Docker cache toolkit: gates, prune, reuse-proof, auth-check and the ci-docker-prune NixOS module";

  # flake.lock pins this revision, and with it the JDK; the jars are pinned by nix/deps.nix.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      forAllSystems = nixpkgs.lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
      ];
    in
    {
      packages = forAllSystems (system: {
        default = nixpkgs.legacyPackages.${system}.callPackage ./nix/package.nix { };
      });

      apps = forAllSystems (
        system:
        let
          package = self.packages.${system}.default;
        in
        builtins.mapAttrs (command: _: {
          type = "app";
          program = "${package}/bin/${command}";
        }) package.passthru.commands
      );

      nixosModules = {
        ci-docker-prune = import ./nix/module.nix;
        default = self.nixosModules.ci-docker-prune;
      };
    };
}
