# The toolkit's commands, compiled ahead of time: no JBang and no download when they run.
# Everything is pinned: the jars by nix/deps.nix (fixed-output fetches, sha256 each), the JDK and
# the build tools by the nixpkgs this is called from (the flake's pinned revision, or your own).
{
  lib,
  stdenvNoCC,
  fetchMavenArtifact,
  jdk17_headless,
  runtimeShell,
}:

let
  jdk = jdk17_headless;

  jars = map (
    dep: (fetchMavenArtifact { inherit (dep) groupId artifactId version hash; }).jar
  ) (import ./deps.nix);
  classpath = lib.concatStringsSep ":" jars;

  # command -> main class; a command whose script is not in scripts/ is left out
  commands = lib.filterAttrs (command: _: builtins.pathExists (../scripts + "/${command}.java")) {
    gates = "Gates";
    prune = "Prune";
    reuse-proof = "ReuseProof";
    auth-check = "AuthCheck";
    cache = "Cache";
    watch = "Watch";
  };
in
stdenvNoCC.mkDerivation {
  pname = "cc-ci";
  version = "0.1.0";

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../lib
      ../scripts
    ];
  };

  buildPhase = ''
    runHook preBuild
    ${jdk}/bin/javac --release 17 -encoding UTF-8 -XDstringConcat=inline -d classes -cp ${classpath} lib/*.java scripts/*.java
    runHook postBuild
  '';

  # If JNA is ever loaded (docker-java's unix-socket fallback; JDK 17 has its own), it unpacks its
  # native library into jna.tmpdir, which must be writable and allow exec: the NixOS module points
  # CC_CI_JNA_TMPDIR at the unit's CacheDirectory.
  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin $out/share/cc-ci
    cp -r classes $out/share/cc-ci/classes
  ''
  + lib.concatStrings (
    lib.mapAttrsToList (command: mainClass: ''
      cat > $out/bin/${command} <<EOF
      #!${runtimeShell}
      exec ${jdk}/bin/java -Djna.tmpdir="\''${CC_CI_JNA_TMPDIR:-\''${TMPDIR:-/tmp}}" \\
        -cp $out/share/cc-ci/classes:${classpath} ${mainClass} "\$@"
      EOF
      chmod +x $out/bin/${command}
    '') commands
  )
  + ''
    runHook postInstall
  '';

  passthru = { inherit jdk jars commands; };

  meta = {
    description = "Gated, cache-keeping Docker prune and its checks (gates, prune, reuse-proof, auth-check)";
    mainProgram = "prune";
    platforms = lib.platforms.linux;
  };
}
