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
    /** A bug: something unexpected went wrong; the one-line message says what. */
    public static final int INTERNAL_ERROR = 19;

}
