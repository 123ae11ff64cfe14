# services.ci-docker-prune: the daily, gated, cache-keeping Docker prune (unit ci-docker-prune).
# It replaces virtualisation.docker.autoPrune, which must stay off.
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  cfg = config.services.ci-docker-prune;
  # every default, from lib/Defaults.java (nix/defaults.nix)
  defaults = import ./defaults.nix;
  # the description's last sentence for an option left to the command when null
  commandDefault = option: value: ''
    `null` (the default): not passed, so `prune` uses its own default, `${toString value}`
    (lib/Defaults.java). Set it to pass `${option}`.'';
  # the threshold eviction must stay below: the one set, else prune's own
  threshold = if cfg.threshold == null then defaults.THRESHOLD_PERCENT else cfg.threshold;
in
{
  options.services.ci-docker-prune = {
    enable = lib.mkEnableOption "the daily gated Docker prune that keeps the local image cache (unit ci-docker-prune)";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The toolkit package; the unit runs its `bin/prune`.";
    };

    dates = lib.mkOption {
      type = lib.types.singleLineStr;
      default = "*-*-* 00:00:00";
      example = "Mon..Fri 03:30";
      description = ''
        When the prune runs: a calendar event in the format of {manpage}`systemd.time(7)`.
        The default is every day at midnight (what `daily` means). A disk that fills up at 00:05
        then waits a day: `"*:0/15"` runs it every 15 minutes; below the threshold a run is a
        no-op decided from the disk alone (nix/README.md: what a frequent schedule costs).
      '';
    };

    persistent = lib.mkOption {
      type = lib.types.bool;
      default = true;
      example = false;
      description = ''
        Run at boot when the host was off at the scheduled time (the timer's `Persistent=`).
        The gates still decide whether anything is removed.
      '';
    };

    randomizedDelaySec = lib.mkOption {
      type = lib.types.singleLineStr;
      default = "0";
      example = "45min";
      description = ''
        Delay each run by a random time between zero and this value, a time span in the
        format of {manpage}`systemd.time(7)`. Useful to keep several hosts from pruning at once.
      '';
    };

    threshold = lib.mkOption {
      type = lib.types.nullOr (lib.types.ints.between 1 100);
      default = null;
      example = 85;
      description = ''
        Disk gate: prune only when the filesystem of Docker's data root is at least this full
        (percent, as `df` shows it). Below it the run prints
        `keeping local image cache, nothing to do` and removes nothing.
        ${commandDefault "--threshold" defaults.THRESHOLD_PERCENT}
      '';
    };

    until = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "([0-9]+[smhd])+");
      default = null;
      example = "7d";
      description = ''
        Only stopped containers, dangling images and build cache older than this are removed
        (whole numbers with a unit s, m, h or d, e.g. `24h`, `7d`, `1d12h`).
        ${commandDefault "--until" defaults.UNTIL}
      '';
    };

    stackPattern = lib.mkOption {
      type = lib.types.nullOr lib.types.nonEmptyStr;
      default = null;
      example = "^ci-[0-9]+_";
      description = ''
        Stack gate: while a swarm service or running container whose name or
        `com.docker.stack.namespace` label matches this regular expression (Java syntax) exists,
        a CI run is live and nothing is pruned.
        ${commandDefault "--stack-pattern" defaults.STACK_PATTERN}
      '';
    };

    dataRoot = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = defaults.DATA_ROOT;
      example = "/srv/docker";
      description = ''
        Docker's data root, measured by the disk gate (`--path`): a day below the threshold is then
        decided without asking the engine at all. `null` asks the engine for its `DockerRootDir`.
      '';
    };

    containerdRoot = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = defaults.CONTAINERD_ROOT;
      description = ''
        containerd's root, for an engine with the containerd image store (`docker info` shows
        `driver-type: io.containerd.snapshotter.v1`) that uses a system containerd: image content
        and snapshots live there, possibly on another file system than the data root. The disk
        gate then measures both and goes by the fullest (`--path` twice; `--containerd-root`
        when `dataRoot` is `null`). Leave it `null` on the classic store, or when dockerd runs
        its own containerd (its root is then inside the data root).
      '';
    };

    metricsFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = defaults.METRICS_FILE;
      example = "/srv/textfile/ci-docker-prune.prom";
      description = ''
        Each run writes its result there (`--metrics-file`), for the node exporter's textfile
        collector: the file must be in the directory its `--collector.textfile.directory` names.
        The module makes that directory (tmpfiles, mode 0755) when it is missing. The alert rules
        (deploy/prometheus) need these metrics; `null` writes none. Not used with `fleet`. Give
        the path as a string.
      '';
    };

    stateFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/srv/cc-ci/state.json";
      description = ''
        Where prune remembers when the gates last allowed a run and since when pruning has been
        blocked (`--state-file`): a small file, replaced atomically. Missing or corrupt, it is
        ignored with a one-line note; it is never needed for safety. The unit's
        `StateDirectory=cc-ci` makes ${defaults.STATE_DIR}; a file elsewhere needs a writable
        directory. Give the path as a string. Not used with `fleet`.
        ${commandDefault "--state-file" defaults.STATE_FILE}
      '';
    };

    blockedLimit = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "([0-9]+[smhd])+");
      default = null;
      example = "5d";
      description = ''
        With the disk at or above the threshold, a gate (a live CI stack, a converging service)
        blocking pruning for longer than this makes the run fail with exit 18, outcome
        `blocked-too-long` and a WARN line naming the gate and since when (`--blocked-limit`).
        Below the threshold a blocked gate is the normal, quiet no-op. Not used with `fleet`.
        ${commandDefault "--blocked-limit" defaults.BLOCKED_LIMIT}
      '';
    };

    onFailure = lib.mkOption {
      type = lib.types.listOf (
        lib.types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)"
      );
      default = [ ];
      example = [ "notify-failure@%n.service" ];
      description = ''
        Units to start when a run fails (the service's `OnFailure=`), e.g. one that sends an
        alert. A run fails when `prune` exits non-zero: a gate that cannot be evaluated, a run
        stopped between phases, another prune holding the lock, an engine error, and when pruning
        was not enough (exit 17, insufficient) or has been blocked too long (exit 18): the unit sets
        no `SuccessExitStatus=`, so only 0 counts as success.
      '';
    };

    fleet = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Fleet mode, for one manager of a Docker Swarm: each run decides the gates that need the
        cluster's view once, then prunes every ready, active node as one swarm global job of the
        toolkit's image (`prune --fleet`), each node by its own disk, and prints one line per node.
        Enable it on one manager only (a second fleet run refuses while one's job exists, exit 14);
        the workers need no unit of their own. Needs `fleetImage`; not with `evictTo`, and
        `metricsFile`, `stateFile` and `blockedLimit` are not used (they are per host; the fleet's
        summary names each node's disk instead).
      '';
    };

    fleetImage = lib.mkOption {
      type = lib.types.nullOr lib.types.nonEmptyStr;
      default = null;
      example = "registry.example.org/ci/cc-ci:0.1.0";
      description = ''
        With `fleet`: the toolkit's container image every node runs (`--image`), built from
        `deploy/container` and pushed where every node can pull it. The manager's docker client
        credentials for its registry go with the job (`--with-registry-auth`; see `dockerConfig`).
      '';
    };

    fleetTimeout = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "[0-9]+[smh]");
      default = null;
      example = "30m";
      description = ''
        With `fleet`: how long to wait for the nodes (`--fleet-timeout`; s, m or h); a node that has
        not reported by then is listed and the run exits 25.
        ${commandDefault "--fleet-timeout" defaults.FLEET_TIMEOUT}
      '';
    };

    dockerConfig = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/root/.docker";
      description = ''
        With `fleet`: the docker client config directory holding the credentials for
        `fleetImage`'s registry (`--config`). `null`: `$DOCKER_CONFIG`, else root's `~/.docker`.
      '';
    };

    evictTo = lib.mkOption {
      type = lib.types.nullOr (lib.types.ints.between 1 100);
      default = null;
      example = 75;
      description = ''
        Opt-in LRU eviction (`--evict-to`): when the disk is still at or above `threshold` after
        the three phases, remove tagged images that nothing uses (no container, running or stopped,
        no service or stack task), least recently used first, until the disk is below this
        percent. Must be below the threshold (`threshold`, else prune's ${toString defaults.THRESHOLD_PERCENT};
        kubelet's pair is 85/80). `null` (the default): the seed's conservative prune only.
        Enable `watch.enable` too, so the order follows real use.
      '';
    };

    keep = lib.mkOption {
      type = lib.types.listOf lib.types.nonEmptyStr;
      default = [ ];
      example = [
        "^registry.example.org/base/"
        ":stable$"
      ];
      description = ''
        Eviction never removes an image with a `repository:tag` one of these regular expressions
        (Java syntax) finds (`--keep`, repeatable).
      '';
    };

    minAge = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "([0-9]+[smhd])+");
      default = null;
      example = "3d";
      description = ''
        Eviction never removes an image used within this age (`--min-age`; without a last-use
        record, created within it). ${commandDefault "--min-age" defaults.MIN_AGE}
      '';
    };

    maxUnusedAge = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "([0-9]+[smhd])+");
      default = null;
      example = "30d";
      description = ''
        Opt-in eviction by age (`--max-unused-age`, kubelet's imageMaximumGCAge): remove the images
        eviction may remove (tagged images and cached registry images nothing uses, none matching
        `keep`, none used within `minAge`, never a parent) once unused for longer than this, even
        when the disk is below `threshold`; the stack and convergence gates must still hold (and the
        daily run then asks the engine every day). Longer than `minAge`. `null` (the default): off.
        Enable `watch.enable` too, so that "unused" means unused.
      '';
    };

    evictMax = lib.mkOption {
      type = lib.types.nullOr (lib.types.ints.between 1 1000000);
      default = null;
      example = 5;
      description = ''
        At most this many images removed by eviction (`evictTo` and `maxUnusedAge` together) in one
        run (`--evict-max`); the rest are left for the next run. `null` (the default): no limit.
      '';
    };

    minFree = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "[0-9]+([.][0-9]+)?[kKmMgGtTpP]?[bB]?");
      default = null;
      example = "5G";
      description = ''
        A second disk trigger (`--min-free`): prune also runs when less than this is available on
        the data root's filesystem, whatever its use in percent; eviction (`evictTo`) then goes on
        until at least this much is free too. Docker's decimal units: `5G` is 5*10^9 bytes, `500M`
        5*10^8 (not GiB/MiB). `null` (the default): off.
      '';
    };

    buildCacheMax = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "[0-9]+([.][0-9]+)?[kKmMgGtTpP]?[bB]?");
      default = null;
      example = "10G";
      description = ''
        A budget for the build cache (`--build-cache-max`): after the build-cache phase, the
        engine's own build-cache prune removes the least recently used cache until it is below
        this (Docker's decimal units: `10G` is 10^10 bytes). `null` (the default): off.
      '';
    };

    watch.enable = lib.mkEnableOption ''
      the ci-docker-watch service, which records the last use of each image from the engine's
      events in watch's default record, ${defaults.LAST_USE_FILE}, for eviction's order and `cache`'';

    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [
        "--path"
        "/var/lib/docker"
      ];
      description = "More arguments for `prune` (see `prune --help`).";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = !config.virtualisation.docker.autoPrune.enable;
        message = ''
          services.ci-docker-prune replaces virtualisation.docker.autoPrune: that timer runs
          `docker system prune` (often with --all), which empties the image cache this prune keeps,
          and the engine refuses two prunes at once. Set virtualisation.docker.autoPrune.enable = false.
        '';
      }
      {
        assertion = !cfg.fleet || cfg.fleetImage != null;
        message = "services.ci-docker-prune.fleet needs fleetImage: the toolkit's image every node runs (see deploy/container).";
      }
      {
        assertion = !cfg.fleet || cfg.evictTo == null;
        message = "services.ci-docker-prune.evictTo is per host: not with fleet (the fleet's summary is in the journal).";
      }
      {
        assertion = !cfg.fleet || (cfg.maxUnusedAge == null && cfg.buildCacheMax == null);
        message = "services.ci-docker-prune.maxUnusedAge and buildCacheMax are per host: not with fleet.";
      }
      {
        assertion = cfg.evictMax == null || cfg.evictTo != null || cfg.maxUnusedAge != null;
        message = "services.ci-docker-prune.evictMax limits eviction: set evictTo or maxUnusedAge with it.";
      }
      {
        assertion = cfg.evictTo == null || cfg.evictTo < threshold;
        message = ''
          services.ci-docker-prune.evictTo (${toString cfg.evictTo}) must be below the threshold
          (${toString threshold}${lib.optionalString (cfg.threshold == null) ", prune's default"}): eviction
          brings the disk down to a low watermark under the point where pruning starts.
        '';
      }
    ];

    systemd.services.ci-docker-prune = {
      description = "Gated Docker prune that keeps the local image cache";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      inherit (cfg) onFailure;
      # as the docker-prune unit: a switch neither restarts nor stops a prune in progress
      restartIfChanged = false;
      unitConfig.X-StopOnRemoval = false;

      environment.CC_CI_JNA_TMPDIR = "/var/cache/ci-docker-prune";

      serviceConfig = {
        Type = "oneshot";
        # a hung run would keep every later timer run from starting
        TimeoutStartSec = "1h";
        ExecStart = utils.escapeSystemdExecArgs ([ "${cfg.package}/bin/prune" ] ++ import ./prune-args.nix lib cfg);

        # The engine does the removing; this only keeps the client out of the way of CI jobs.
        Nice = 19;
        CPUSchedulingPolicy = "batch";
        IOSchedulingClass = "idle";

        # For jna.tmpdir: writable and exec-able, unlike a noexec /tmp (see package.nix).
        # No MemoryDenyWriteExecute: the JVM's JIT needs writable executable memory.
        CacheDirectory = "ci-docker-prune";
        # /var/lib/cc-ci, for the state file (stateFile)
        StateDirectory = "cc-ci";
        PrivateTmp = true;
        ProtectSystem = "full";
        ProtectHome = "read-only";
        NoNewPrivileges = true;
      };
    };

    systemd.services.ci-docker-watch = lib.mkIf cfg.watch.enable {
      description = "Records the last use of each Docker image (for ci-docker-prune's eviction and cache)";
      after = [ "docker.service" ];
      # not Requires=: when the engine restarts, watch stays and reconnects
      wants = [ "docker.service" ];
      wantedBy = [ "multi-user.target" ];

      environment = {
        CC_CI_JNA_TMPDIR = "/var/cache/ci-docker-watch";
        # a long-running JVM kept small: its heap holds one record per image in use lately
        JAVA_TOOL_OPTIONS = "-Xmx32m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=16m";
      };

      serviceConfig = {
        Type = "simple";
        # the record: watch's default, where prune --evict-to and cache read it by default
        ExecStart = utils.escapeSystemdExecArgs [ "${cfg.package}/bin/watch" ];
        Restart = "always";
        RestartSec = "5s";
        # the JVM's exit on SIGTERM, after writing what was pending
        SuccessExitStatus = "143";
        StateDirectory = "cc-ci";
        CacheDirectory = "ci-docker-watch";
        Nice = 10;
        PrivateTmp = true;
        ProtectSystem = "full";
        ProtectHome = "read-only";
        NoNewPrivileges = true;
      };
    };

    # the node exporter's textfile directory, made (0755, root) when missing, an existing one left
    # as it is: prune does not make it
    systemd.tmpfiles.rules = lib.optionals (cfg.metricsFile != null && !cfg.fleet) [
      "d ${dirOf (toString cfg.metricsFile)} - - - -"
    ];

    systemd.timers.ci-docker-prune = {
      description = "Schedule of the gated Docker prune";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.dates;
        Persistent = cfg.persistent;
        RandomizedDelaySec = cfg.randomizedDelaySec;
      };
    };
  };
}
