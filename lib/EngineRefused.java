package ccci;

/** The engine answered, but with an HTTP error (e.g. 409 "a prune operation is already running"). */
public final class EngineRefused extends EngineUnavailable {
    private final int status;
    private final String engineMessage;

    public EngineRefused(int status, String message) {
        this(status, message, "");
    }

    /** @param engineMessage the engine's own one-line message, without what was asked (may be empty) */
    public EngineRefused(int status, String message, String engineMessage) {
        super(message, null);
        this.status = status;
        this.engineMessage = engineMessage;
    }

    public int status() {
        return status;
    }

    /** The engine's own message, e.g. "unauthorized: authentication required". */
    public String engineMessage() {
        return engineMessage;
    }
}
