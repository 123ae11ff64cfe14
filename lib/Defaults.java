package ccci;

/**
 * Every default of the toolkit, in one place: the commands' options, the NixOS module, the
 * installer and the units take them from here (DefaultsAgreeTest names any place that differs).
 * Changing a default is one edit, here.
 */
public final class Defaults {
    private Defaults() {}

    /** Disk use (df's Use%) at or above which pruning may run. */
    public static final int THRESHOLD_PERCENT = 80;
    /** Objects younger than this are never pruned (--until). */
    public static final String UNTIL = "24h";
    /** A service or running container whose name or stack label matches is a live run-app stack. */
    public static final String STACK_PATTERN = "^[a-z0-9]{1,4}-[0-9a-f]{6}_ci_commoninternet_net(_|$)";
    /** Nothing used, pulled, tagged or created within this age is removed (--min-age). */
    public static final String MIN_AGE = "24h";
    /** cache's view of eviction: the low watermark it shows when --evict-to is not given. */
    public static final int EVICT_TO_VIEW_PERCENT = 75;
    /** Disk over the threshold and a gate blocking for longer than this is an alarm (--blocked-limit). */
    public static final String BLOCKED_LIMIT = "72h";
    /** Docker's data root as the units measure it (--path). */
    public static final String DATA_ROOT = "/var/lib/docker";
    /** containerd's root, measured on the containerd image store when it exists on this host. */
    public static final String CONTAINERD_ROOT = "/var/lib/containerd";
    /** The toolkit's state directory (the units' StateDirectory=cc-ci). */
    public static final String STATE_DIR = "/var/lib/cc-ci";
    /** The last-use record watch keeps (--last-use). */
    public static final String LAST_USE_FILE = STATE_DIR + "/last-use.json";
    /** Where prune remembers the gates' last "allowed" and the blocked clock (--state-file). */
    public static final String STATE_FILE = STATE_DIR + "/state.json";
    /**
     * Where the units write prune's node_exporter textfile-collector metrics (--metrics-file; the
     * command itself writes none unless asked): Debian's prometheus-node-exporter reads this directory.
     */
    public static final String METRICS_FILE = "/var/lib/prometheus/node-exporter/ci-docker-prune.prom";
    /** How long a fleet run waits for its nodes (--fleet-timeout). */
    public static final String FLEET_TIMEOUT = "10m";
    /** The image reuse-proof proves with (--image). */
    public static final String PROOF_IMAGE = "redis:7-alpine";
    /** The engine when neither --host nor DOCKER_HOST names one. */
    public static final String DOCKER_SOCKET = "unix:///var/run/docker.sock";
    /** The longest any single engine request may take, connect to last byte (a stalled engine fails closed). */
    public static final int ENGINE_TIMEOUT_SECONDS = 60;
}
