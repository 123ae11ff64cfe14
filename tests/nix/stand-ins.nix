# Small stand-ins for nixpkgs' lib, pkgs and NixOS' utils: just what nix/module.nix and
# nix/package.nix use, written after nixpkgs' own definitions (lib/options.nix, lib/modules.nix,
# lib/types.nix, nixos/lib/utils.nix). There is no nixpkgs on the test machine; they let the tests
# evaluate the module and the package and look at the result. They prove nothing about nixpkgs.
{
  # where the test machine keeps the jars (Maven's local repository), for fetchMavenArtifact
  m2 ? "/nonexistent-m2",
  # a JDK 17 home and a shell, standing in for jdk17_headless and runtimeShell
  jdk ? "/nonexistent-jdk",
  shell ? "/bin/sh",
}:

let
  inherit (builtins)
    all
    attrNames
    concatStringsSep
    filter
    functionArgs
    intersectAttrs
    isAttrs
    isBool
    isFloat
    isInt
    isList
    isPath
    isString
    listToAttrs
    match
    replaceStrings
    split
    stringLength
    substring
    toJSON
    ;

  mkType = name: check: { inherit name check; };

  escapeRegex = replaceStrings regexSpecials (map (c: "\\${c}") regexSpecials);
  regexSpecials = [ "\\" "[" "{" "(" ")" "^" "$" "?" "*" "+" "|" "." ];

  types = {
    bool = mkType "bool" isBool;
    str = mkType "str" isString;
    singleLineStr = mkType "singleLineStr" (x: isString x && match "[^\n\r]*" x != null);
    nonEmptyStr = mkType "nonEmptyStr" (x: isString x && match "[[:space:]]*" x == null);
    strMatching = re: mkType "strMatching ${toJSON re}" (x: isString x && match re x != null);
    ints.between = lo: hi: mkType "int between ${toString lo} and ${toString hi}" (x: isInt x && lo <= x && x <= hi);
    path = mkType "path" (x: (isString x || isPath x) && substring 0 1 (toString x) == "/");
    package = mkType "package" (x: isAttrs x && (x.type or null) == "derivation");
    nullOr = t: mkType "null or ${t.name}" (x: x == null || t.check x);
    listOf = t: mkType "list of ${t.name}" (x: isList x && all t.check x);
  };

  lib = {
    inherit types;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: lib.mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    optionals = cond: list: if cond then list else [ ];
    optionalString = cond: string: if cond then string else "";
    inherit concatStringsSep filter;
    hasPrefix = prefix: string: substring 0 (stringLength prefix) string == prefix;
    splitString = separator: string: filter isString (split (escapeRegex separator) string);
    escapeShellArg = arg:
      let
        string = toString arg;
      in
      if match "[[:alnum:],._+:@%/-]+" string == null then "'${replaceStrings [ "'" ] [ "'\\''" ] string}'" else string;
    escapeShellArgs = args: concatStringsSep " " (map lib.escapeShellArg args);
    concatStrings = concatStringsSep "";
    filterAttrs = pred: set: listToAttrs (map (name: { inherit name; value = set.${name}; })
      (filter (name: pred name set.${name}) (attrNames set)));
    mapAttrsToList = f: set: map (name: f name set.${name}) (attrNames set);
    genAttrs = names: f: listToAttrs (map (name: { inherit name; value = f name; }) names);
    fileset = {
      unions = list: list;
      toSource = { root, fileset }: { inherit root fileset; };
    };
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };

  utils = rec {
    escapeSystemdExecArg = arg:
      let
        s =
          if isPath arg then "${arg}"
          else if isString arg then arg
          else if isInt arg || isFloat arg || (isAttrs arg && arg ? outPath) then toString arg
          else throw "escapeSystemdExecArg only allows strings, paths, numbers and derivations";
      in
      replaceStrings [ "%" "$" ] [ "%%" "$$" ] (toJSON s);
    escapeSystemdExecArgs = args: concatStringsSep " " (map escapeSystemdExecArg args);
  };

  pkgs = {
    jdk17_headless = jdk;
    runtimeShell = shell;
    # the jar Maven already checked out for the tests, where fetchMavenArtifact would download it
    fetchMavenArtifact = { groupId, artifactId, version, hash, ... }:
      assert match "sha256-[A-Za-z0-9+/]{43}=" hash != null;
      { jar = "${m2}/${replaceStrings [ "." ] [ "/" ] groupId}/${artifactId}/${version}/${artifactId}-${version}.jar"; };
    stdenvNoCC.mkDerivation = attrs: attrs // {
      type = "derivation";
      outPath = "/nix/store/00000000000000000000000000000000-${attrs.pname}-${attrs.version}";
    };
    callPackage = fn: overrides:
      let f = import fn;
      in f (intersectAttrs (functionArgs f) (pkgs // { inherit lib; }) // overrides);
  };

  # a module's config with its mkIfs applied (a false one leaves an empty set)
  resolve = value:
    if isAttrs value && (value._type or null) == "if" then
      (if value.condition then resolve value.content else { })
    else if isAttrs value && (value.type or null) != "derivation" then
      builtins.mapAttrs (_: resolve) value
    else
      value;
in
{
  inherit lib pkgs utils resolve;
}
