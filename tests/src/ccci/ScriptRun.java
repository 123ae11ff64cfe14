package ccci;

import ccci.sandbox.CommandResult;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Runs a script's command in this JVM exactly as its main() does (same Cli handlers), capturing
 * its output and exit code. The scripts live in the default package, hence the lookup by name.
 */
public final class ScriptRun {
    private ScriptRun() {}

    public static CommandResult of(String className, String... args) {
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
        return new CommandResult(exit, out.toString(), err.toString());
    }

    /** One gate's object from a `gates --json` run. */
    public static JsonNode gate(CommandResult run, String name) {
        for (JsonNode gate : run.json().path("gates")) {
            if (gate.path("name").asText().equals(name)) {
                return gate;
            }
        }
        throw new AssertionError("no gate " + name + " in\n" + run.out());
    }
}
