package ccci.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** A finished command (a process, or a script run in this JVM): exit code, stdout and stderr apart. */
public record CommandResult(int exit, String out, String err) {

    public boolean ok() {
        return exit == 0;
    }

    /** This result when it exited 0; otherwise an AssertionError showing both streams. */
    public CommandResult requireOk() {
        if (!ok()) {
            throw new AssertionError(toString());
        }
        return this;
    }

    /** stdout parsed as JSON; an AssertionError (with both streams) when it is not JSON. */
    public JsonNode json() {
        try {
            return new ObjectMapper().readTree(out);
        } catch (IOException e) {
            throw new AssertionError("not JSON:\n" + this, e);
        }
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
