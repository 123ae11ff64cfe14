package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Runs a script's command in this JVM exactly as its main() does (same Cli handlers), capturing
 * its output and exit code. The scripts live in the default package, hence the lookup by name.
 */
public record ScriptRun(int exit, String out, String err) {

    public static ScriptRun of(String className, String... args) {
        Object command;
        try {
            var constructor = Class.forName(className).getDeclaredConstructor();
            constructor.setAccessible(true); // script classes are package-private, as JBang scripts often are
            command = constructor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot instantiate script class " + className + ": " + e, e);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(command, new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new ScriptRun(exit, out.toString(), err.toString());
    }

    public JsonNode json() {
        try {
            return new ObjectMapper().readTree(out);
        } catch (IOException e) {
            throw new AssertionError("not JSON:\n" + out + "\nstderr:\n" + err, e);
        }
    }

    public JsonNode gate(String name) {
        for (JsonNode gate : json().path("gates")) {
            if (gate.path("name").asText().equals(name)) {
                return gate;
            }
        }
        throw new AssertionError("no gate " + name + " in\n" + out);
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
