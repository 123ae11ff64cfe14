package ccci;

/** The Docker engine could not be asked (unreachable, permission denied, timed out) or refused (see {@link EngineRefused}). */
public class EngineUnavailable extends RuntimeException {
    public EngineUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
