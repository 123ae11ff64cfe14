# nix/package.nix evaluated with the real nixpkgs lib (lib.fileset copies the sources into the
# store as a build would get them) and the stand-ins' fetchMavenArtifact, jdk17_headless,
# runtimeShell and stdenvNoCC.mkDerivation (the attributes it is given), for NixPackageTest:
#   nix-instantiate --eval --strict --json tests/nix/package-build.nix --argstr nixpkgsLib DIR --argstr m2 DIR --argstr jdk DIR
# Without nixpkgsLib (no copy of nixpkgs' lib on this machine), the stand-ins' lib, whose
# fileset.toSource copies the listed directories of the root into the store with builtins.path.
{
  nixpkgsLib ? "",
  m2,
  jdk,
  shell ? "/bin/sh",
}:

let
  # Debian's Nix (2.8) has no builtins.readFileType (Nix 2.14), which lib.fileset uses: for every
  # file of the lib, the same answer from readDir
  scope = {
    builtins =
      builtins
      // (
        if builtins ? readFileType then
          { }
        else
          { readFileType = path: (builtins.readDir (dirOf path)).${baseNameOf path}; }
      );
    import = scopedImport scope;
  };
  standIns = import ./stand-ins.nix { inherit m2 jdk shell; };
  lib =
    if nixpkgsLib != "" then
      scopedImport scope nixpkgsLib
    else
      standIns.lib
      // {
        fileset = {
          unions = paths: paths;
          toSource =
            { root, fileset }:
            let
              kept = map toString fileset;
              under = parent: path: path == parent || builtins.substring 0 (builtins.stringLength parent + 1) path == parent + "/";
            in
            builtins.path {
              name = "source";
              path = root;
              filter = path: _: builtins.any (dir: under dir path || under path dir) kept;
            };
        };
      };
  package = import ../../nix/package.nix {
    inherit lib;
    inherit (standIns.pkgs) stdenvNoCC fetchMavenArtifact jdk17_headless runtimeShell;
  };
in
{
  inherit (package) buildPhase installPhase;
  src = "${package.src}";
  inherit (package.passthru) commands jvmFlags;
}
