package ccci;

/** The engine answered, but with an HTTP error (e.g. 409 "a prune operation is already running"). */
public final class EngineRefused extends EngineUnavailable {
    private final int status;

    public EngineRefused(int status, String message) {
        super(message, null);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
