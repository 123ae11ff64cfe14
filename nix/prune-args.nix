# prune's arguments in the ci-docker-prune unit, from the module's settings (cfg): module.nix puts
# them after bin/prune in the unit's ExecStart, package.nix trains prune's archive on them.
lib: cfg:
lib.optionals (cfg.dataRoot != null) [
  "--path"
  cfg.dataRoot
]
++ lib.optionals (cfg.containerdRoot != null) [
  (if cfg.dataRoot != null then "--path" else "--containerd-root")
  cfg.containerdRoot
]
++ [
  "--threshold"
  cfg.threshold
  "--until"
  cfg.until
  "--stack-pattern"
  cfg.stackPattern
]
# per host: a fleet run reports each node's disk instead
++ lib.optionals (!cfg.fleet) [
  "--state-file"
  (toString cfg.stateFile)
  "--blocked-limit"
  cfg.blockedLimit
]
++ lib.optionals (cfg.metricsFile != null) [
  "--metrics-file"
  (toString cfg.metricsFile)
]
++ lib.optionals cfg.fleet [
  "--fleet"
  "--image"
  # null only when the module's assertion fails the build
  (toString cfg.fleetImage)
  "--fleet-timeout"
  cfg.fleetTimeout
]
++ lib.optionals (cfg.fleet && cfg.dockerConfig != null) [
  "--config"
  cfg.dockerConfig
]
++ lib.optionals (cfg.evictTo != null) (
  [
    "--evict-to"
    cfg.evictTo
    "--min-age"
    cfg.minAge
  ]
  ++ builtins.concatMap (k: [
    "--keep"
    k
  ]) cfg.keep
)
++ cfg.extraArgs
