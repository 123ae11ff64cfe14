{
  description = "cc-ci Docker cache toolkit: gates, prune, reuse-proof, auth-check and the ci-docker-prune NixOS module";

  # nixpkgs pinned by revision, and with it the JDK (the jars are pinned by nix/deps.nix): a fresh
  # clone evaluates the same nixpkgs with or without a flake.lock. The revision is a commit of the
  # nixos-25.05 branch (2025-10-06), found in public flake.lock files that lock nixos-25.05 to it;
  # nix/README.md says what `nix flake lock` adds and how to move to another revision.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/20c4598c84a671783f741e02bf05cbfaf4907cff";

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
