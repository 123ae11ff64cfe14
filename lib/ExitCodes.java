package ccci;

/**
 * Exit codes shared by every script. 0 is success; JBang owns 1-4 for its own failures and picocli
 * uses 2 for usage, so the toolkit's own outcomes start at 10.
 */
public final class ExitCodes {
    private ExitCodes() {}

    public static final int OK = 0;
    /** gates: at least one gate blocks, so pruning is not allowed (a normal, healthy answer). */
    public static final int GATE_BLOCKS = 10;
    /** A gate could not be evaluated (engine unreachable, permission denied, path vanished): fail closed. */
    public static final int CANNOT_EVALUATE = 11;
    /** Bad input: an option value that is out of range, malformed, or names a missing path. */
    public static final int BAD_INPUT = 12;
    /** prune: the gates closed between phases (a CI run started); it stopped before the next phase. */
    public static final int STOPPED_GATES_CLOSED = 13;
    /** prune: another prune holds the lock file; nothing was removed. */
    public static final int LOCKED = 14;
    /** prune: the engine answered 409, a prune is already running (started by another tool). */
    public static final int ENGINE_BUSY = 15;
    /** prune: the engine failed or went away during a phase; the report says which phases completed. */
    public static final int ENGINE_FAILED = 16;
    /** A bug: something unexpected went wrong; the one-line message says what. */
    public static final int INTERNAL_ERROR = 19;
    /** reuse-proof: the proof ran (or could not finish) and the cache was not shown to work; the reason says why. */
    public static final int PROOF_FAILED = 20;
    /** reuse-proof: the image is used by a container or service, so it was left alone (nothing changed). */
    public static final int IMAGE_IN_USE = 21;
    /** auth-check: no usable credentials for the registry, or the registry rejected them. */
    public static final int AUTH_FAILED = 22;
    /** auth-check: the registry accepts the credentials, but the config file is readable by group or others. */
    public static final int AUTH_CONFIG_EXPOSED = 23;

}
