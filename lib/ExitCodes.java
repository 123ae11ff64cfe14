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

}
