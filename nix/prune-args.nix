# prune's arguments in the ci-docker-prune unit, from the module's settings (cfg): module.nix puts
# them after bin/prune in the unit's ExecStart, package.nix trains prune's archive on them. A setting
# that is null is not passed: prune then uses its own default (lib/Defaults.java).
lib: cfg:
let
  given = option: value: lib.optionals (value != null) [
    option
    value
  ];
in
given "--path" cfg.dataRoot
++ lib.optionals (cfg.containerdRoot != null) [
  (if cfg.dataRoot != null then "--path" else "--containerd-root")
  cfg.containerdRoot
]
++ given "--threshold" cfg.threshold
++ given "--until" cfg.until
++ given "--stack-pattern" cfg.stackPattern
# per host: a fleet run reports each node's disk instead
++ lib.optionals (!cfg.fleet) (
  given "--state-file" (if cfg.stateFile == null then null else toString cfg.stateFile)
  ++ given "--blocked-limit" cfg.blockedLimit
  ++ given "--metrics-file" (if cfg.metricsFile == null then null else toString cfg.metricsFile)
  ++ given "--build-cache-max" cfg.buildCacheMax
)
++ given "--min-free" cfg.minFree
++ lib.optionals cfg.fleet (
  [
    "--fleet"
    "--image"
    # null only when the module's assertion fails the build
    (toString cfg.fleetImage)
  ]
  ++ given "--fleet-timeout" cfg.fleetTimeout
  ++ given "--config" cfg.dockerConfig
)
++ lib.optionals (cfg.evictTo != null || cfg.maxUnusedAge != null) (
  given "--evict-to" cfg.evictTo
  ++ given "--max-unused-age" cfg.maxUnusedAge
  ++ given "--evict-max" cfg.evictMax
  ++ given "--min-age" cfg.minAge
  ++ builtins.concatMap (k: [
    "--keep"
    k
  ]) cfg.keep
)
++ cfg.extraArgs
