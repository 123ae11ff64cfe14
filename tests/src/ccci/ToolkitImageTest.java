package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.Sandboxes;
import ccci.sandbox.ToolkitImage;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The toolkit's container image (deploy/container), as the tests build it without a registry
 * (ToolkitImage): its entry point runs each command, and gates inside a container, given the
 * engine's socket, reaches the verdict the script reaches on the host.
 */
@WholeProduct
class ToolkitImageTest {
    static SandboxEngine engine;
    static String image;

    @BeforeAll
    static void importImage() {
        engine = Sandboxes.sharedSwarm();
        image = ToolkitImage.importInto(engine);
    }

    /** `docker run` of the image with the engine's socket at the usual path; extra docker options first. */
    static CommandResult run(List<String> dockerOptions, String... args) {
        List<String> command = new ArrayList<>(List.of("run", "--rm", "--network", "none",
                "-v", engine.host().substring("unix://".length()) + ":/var/run/docker.sock"));
        command.addAll(dockerOptions);
        command.add(image);
        command.addAll(List.of(args));
        return engine.docker(command.toArray(String[]::new));
    }

    @Test
    void gatesInTheImageSeeTheEngineAsTheScriptDoesOnTheHost() throws IOException {
        String dataRoot = engine.dataRoot().toString();
        // the data root at its own path, read-only, so the disk gate measures the engine's disk
        CommandResult inImage = run(List.of("-v", dataRoot + ":" + dataRoot + ":ro"), "gates", "--json");
        CommandResult onHost = ScriptRun.of("Gates", "--json", "-H", engine.host());

        JsonNode container = new ObjectMapper().readTree(inImage.out());
        JsonNode host = onHost.json();
        assertEquals(onHost.exit(), inImage.exit(), inImage.err() + "\n" + onHost);
        assertEquals("unix:///var/run/docker.sock", container.path("host").asText(), "the default socket inside");
        for (String field : List.of("pruneAllowed", "exitCode", "problems")) {
            assertEquals(host.path(field), container.path(field), field + ": " + container + " vs " + host);
        }
        for (String gate : List.of("disk", "stack", "convergence")) {
            assertEquals(ScriptRun.gate(onHost, gate).path("state"), gate(container, gate).path("state"), gate);
        }
        JsonNode disk = gate(container, "disk");
        assertEquals(dataRoot, disk.path("path").asText(), "measured the engine's data root: " + disk);
        assertTrue(Math.abs(disk.path("usedPercent").asInt() - ScriptRun.gate(onHost, "disk").path("usedPercent").asInt()) <= 1, disk.toString());
        assertEquals(ScriptRun.gate(onHost, "stack").path("liveStacks"), gate(container, "stack").path("liveStacks"));
        for (String field : List.of("swarm", "services")) {
            assertEquals(ScriptRun.gate(onHost, "convergence").path(field), gate(container, "convergence").path(field), field);
        }
    }

    /** Every command of the toolkit (one per scripts/*.java: six), each starting from the entry point. */
    @Test
    void theEntryPointRunsEachCommandAndRefusesOthers() throws IOException {
        List<String> commands;
        try (var scripts = java.nio.file.Files.list(Repo.root().resolve("scripts"))) {
            commands = scripts.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .map(n -> n.substring(0, n.length() - ".java".length())).sorted().toList();
        }
        assertEquals(List.of("auth-check", "cache", "gates", "prune", "reuse-proof", "watch"), commands);
        CommandResult usage = run(List.of(), "--help");
        assertEquals(0, usage.exit(), usage.toString());
        for (String command : commands) {
            assertTrue(usage.out().contains(command), "the entry point's usage names " + command + ": " + usage.out());
            CommandResult help = run(List.of(), command, "--help");
            assertEquals(0, help.exit(), command + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: " + command + " "), command + " --help: " + help.out());
        }
        for (String command : List.of("gates", "prune", "reuse-proof", "auth-check")) {
            CommandResult help = run(List.of(), command, "--help");
            assertEquals(0, help.exit(), command + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: " + command + " "), command + " --help: " + help.out());
        }
        CommandResult version = run(List.of(), "gates", "--version");
        assertTrue(version.out().contains("(/opt/java/openjdk)"), "runs the image's JRE: " + version.out());
        CommandResult unknown = run(List.of(), "rm-rf");
        assertEquals(12, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().startsWith("cc-ci: unknown command"), unknown.err());
        assertEquals(12, run(List.of()).exit(), "no command is a usage error");
    }

    @Test
    void theImageCarriesTheDockerfilesEntryPointAndJavaHome() {
        assertEquals("[\"/opt/cc-ci/bin/cc-ci\"]", engine.dockerOk("image", "inspect", "-f", "{{json .Config.Entrypoint}}", image));
        assertTrue(engine.dockerOk("image", "inspect", "-f", "{{json .Config.Env}}", image).contains("JAVA_HOME=/opt/java/openjdk"));
    }

    private static JsonNode gate(JsonNode report, String name) {
        for (JsonNode gate : report.path("gates")) {
            if (gate.path("name").asText().equals(name)) {
                return gate;
            }
        }
        throw new AssertionError("no gate " + name + " in " + report);
    }
}
