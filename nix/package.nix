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

  # the JVM flags of the installed commands (C1 only, the serial GC), shared with deploy/systemd/install
  jvmFlags = lib.filter (line: line != "" && !lib.hasPrefix "#" line) (
    lib.splitString "\n" (builtins.readFile ../deploy/jvm-flags)
  );

  # prune's arguments in the module's unit with its default settings: the daily no-op it runs,
  # here on a directory of the build (@training@) with no engine to reach
  moduleDefaults = builtins.mapAttrs (_: option: option.default or null)
    (import ./module.nix {
      inherit lib;
      config = { };
      pkgs = { };
      utils = { };
    }).options.services.ci-docker-prune;
  # (threshold null: prune's own; its metrics go to the build's directory too)
  dailyNoop =
    threshold:
    import ./prune-args.nix lib (
      moduleDefaults
      // {
        dataRoot = "@training@";
        stateFile = "@training@/state.json";
        metricsFile = "@training@/ci-docker-prune.prom";
        inherit threshold;
      }
    )
    ++ [
      "--lock-file"
      "@training@/prune.lock"
    ];

  # what each command's class-data-sharing archive is trained on: runs that change nothing
  training = command: {
    prune = [ ]; # the daily no-op, below
    gates = [ "--path" "@training@" "--threshold" "100" ];
  }.${command} or [ "--help" ];

  flags = lib.concatStringsSep " " jvmFlags;
  share = "$out/share/cc-ci";
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
    ${jdk}/bin/javac --release 17 -encoding UTF-8 -XDstringConcat=inline -XDsuppressNotes -d classes -cp ${classpath} lib/*.java scripts/*.java
    ${jdk}/bin/jar --create --file cc-ci.jar -C classes .
    runHook postBuild
  '';

  # Class-data sharing needs jars, and an archive records their sizes and times: the jar is in
  # place, with the time the store gives every file (1), before any training. The training runs
  # reach no engine (DOCKER_HOST is a socket that does not exist) and change nothing.
  # If JNA is ever loaded (docker-java's unix-socket fallback; JDK 17 has its own), it unpacks its
  # native library into jna.tmpdir, which must be writable and allow exec: the NixOS module points
  # CC_CI_JNA_TMPDIR at the unit's CacheDirectory.
  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin ${share}
    cp cc-ci.jar ${share}/cc-ci.jar
    touch -d @1 ${share}/cc-ci.jar
    classpath=${share}/cc-ci.jar:${classpath}

    training=$PWD/training
    mkdir -p $training
    # train COMMAND NAME MAIN-CLASS ARGS...: one training run, its classes to
    # $training/COMMAND.NAME.classlist, its output to $training/COMMAND.out
    train() {
      local command=$1 name=$2 main=$3
      shift 3
      env -u DOCKER_TLS_VERIFY DOCKER_HOST=unix://$training/no-engine.sock \
        ${jdk}/bin/java -XX:DumpLoadedClassList=$training/$command.$name.classlist ${flags} -cp $classpath "$main" \
        "''${@//@training@/$training}" >$training/$command.out 2>&1 || true
    }
  ''
  + lib.optionalString (commands ? prune) ''
    # prune: the unit's daily no-op, on this directory's filesystem, twice (the second reads the
    # state file the first wrote, as every day after the first does); should the build's disk be
    # at or above prune's threshold, with the threshold 100 (the same run, the same classes)
    keeping='^keeping local image cache, nothing to do'
    noop=(${lib.escapeShellArgs (dailyNoop moduleDefaults.threshold)})
    train prune daily ${commands.prune} "''${noop[@]}"
    if ! grep -q "$keeping" $training/prune.out; then
      echo "the build's disk is at or above prune's threshold: training prune's no-op with --threshold 100"
      noop=(${lib.escapeShellArgs (dailyNoop 100)})
      train prune daily ${commands.prune} "''${noop[@]}"
    fi
    train prune daily-again ${commands.prune} "''${noop[@]}"
    grep -q "$keeping" $training/prune.out ||
      echo "note: prune's archive is not trained on the daily no-op, which printed: $(head -c 500 $training/prune.out)"
  ''
  + lib.concatStrings (
    lib.mapAttrsToList (command: mainClass: ''
      ${lib.optionalString (command != "prune") "train ${command} run ${mainClass} ${lib.escapeShellArgs (training command)}"}
      # the training runs' classes, each line once (a line twice can crash JDK 17's dump)
      awk '!seen[$0]++' $training/${command}.*.classlist >$training/${command}.classlist
      ${jdk}/bin/java -Xshare:dump -XX:SharedClassListFile=$training/${command}.classlist \
        -XX:SharedArchiveFile=${share}/${command}.jsa ${flags} -cp $classpath \
        >$training/${command}.dump 2>&1 || { cat $training/${command}.dump; exit 1; }
      cat > $out/bin/${command} <<EOF
      #!${runtimeShell}
      exec ${jdk}/bin/java -XX:SharedArchiveFile=${share}/${command}.jsa -Xshare:auto -Xlog:cds=off ${flags} -Djna.tmpdir="\''${CC_CI_JNA_TMPDIR:-\''${TMPDIR:-/tmp}}" -cp $classpath ${mainClass} "\$@"
      EOF
      chmod +x $out/bin/${command}
      $out/bin/${command} --version >/dev/null
    '') commands
  )
  + ''
    runHook postInstall
  '';

  passthru = { inherit jdk jars commands jvmFlags; };

  meta = {
    description = "Gated, cache-keeping Docker prune and its checks (gates, prune, reuse-proof, auth-check)";
    mainProgram = "prune";
    platforms = lib.platforms.linux;
  };
}
