package ccci;

/** An option value that cannot be used; the message is the one line the operator sees. */
public final class BadInput extends RuntimeException {
    public BadInput(String message) {
        super(message);
    }
}
