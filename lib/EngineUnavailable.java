package ccci;

/** The Docker engine could not be asked (unreachable, permission denied, timed out, refused). */
public final class EngineUnavailable extends RuntimeException {
    public EngineUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
