package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * auth-check against a real htpasswd registry, through a real engine's POST /auth. The good config
 * is the one `docker login` wrote (mode 0600). Every run's output is checked for the password.
 */
@OnEveryEngine
class AuthCheckEngineTest {
    static final String USER = "ccci-auth";
    static final String PASSWORD = "pw-" + UUID.randomUUID();
    static final String WRONG_PASSWORD = "wrong-" + UUID.randomUUID();
    static RegistryHost host;
    static SandboxEngine engine;
    static SandboxRegistry registry;
    @TempDir Path temp;

    @BeforeAll
    static void loggedIn() {
        host = RegistryHost.start(USER, PASSWORD, false);
        engine = host.engine();
        registry = host.registry();
    }

    @AfterAll
    static void stop() {
        if (host != null) {
            host.close();
        }
    }

    static CommandResult authCheck(Path configDir, String... more) {
        String[] args = new String[6 + more.length];
        args[0] = "--host";
        args[1] = engine.host();
        args[2] = "--config";
        args[3] = configDir.toString();
        args[4] = "--registry";
        args[5] = registry.address();
        System.arraycopy(more, 0, args, 6, more.length);
        CommandResult run = ScriptRun.of("AuthCheck", args);
        String all = run.out() + run.err();
        assertFalse(all.contains(PASSWORD), "the password leaked:\n" + all);
        assertFalse(all.contains(WRONG_PASSWORD), "the wrong password leaked:\n" + all);
        assertFalse(all.contains(basic(PASSWORD)) || all.contains(basic(WRONG_PASSWORD)), "an auth token leaked:\n" + all);
        return run;
    }

    static String basic(String password) {
        return Base64.getEncoder().encodeToString((USER + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    Path configWith(String password, String mode) throws Exception {
        Path dir = Files.createDirectories(temp.resolve("config-" + UUID.randomUUID()));
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"auths\":{\"" + registry.address() + "\":{\"auth\":\"" + basic(password) + "\"}}}");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return dir;
    }

    @Test
    void passesWithTheCredentialsDockerLoginWroteAndPrintsTheUserOnly() {
        CommandResult run = authCheck(engine.dockerConfigDir());
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        System.err.println("[auth-check sample output]\n" + run.out());
        assertTrue(run.out().contains("credentials  pass    user " + USER + " for " + registry.address()), run.toString());
        assertTrue(run.out().contains("mode         pass    " + engine.dockerConfigDir().resolve("config.json") + ": mode 0600"), run.toString());
        assertTrue(run.out().contains("registry     pass    " + registry.address() + " accepted them"), run.toString());
        assertTrue(run.out().contains("PASS: user " + USER + " is accepted by " + registry.address()), run.toString());
        assertTrue(run.out().contains("summary verdict=pass exit=0 registry=" + registry.address() + " user=" + USER), run.toString());

        JsonNode json = authCheck(engine.dockerConfigDir(), "--json").json();
        assertTrue(json.path("ok").asBoolean());
        assertEquals("pass", json.path("verdict").asText());
        json.path("checks").forEach(c -> assertEquals("pass", c.path("state").asText(), c.toString()));
        assertEquals(USER, json.path("user").asText());
        assertEquals("0600", json.path("mode").asText());
        assertFalse(json.path("exposed").asBoolean());
        assertTrue(json.path("accepted").asBoolean());
    }

    @Test
    void aLinkToAnOwnerOnlyFilePassesAsOnTheSeedHost() throws Exception {
        Path secret = configWith(PASSWORD, "rw-------").resolve("config.json");
        Path dir = Files.createDirectories(temp.resolve("linked"));
        Files.createSymbolicLink(dir.resolve("config.json"), secret);
        CommandResult run = authCheck(dir);
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertTrue(run.out().contains(dir.resolve("config.json") + " -> " + secret.toRealPath() + ": mode 0600"), run.toString());
    }

    @Test
    void failsWhenTheRegistryRejectsTheCredentials() throws Exception {
        CommandResult run = authCheck(configWith(WRONG_PASSWORD, "rw-------"));
        assertEquals(ExitCodes.AUTH_FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("registry     fail    " + registry.address() + " rejected the credentials of " + USER), run.toString());
        assertTrue(run.out().contains("FAIL: registry: "), run.toString());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("summary verdict=fail exit=22 ") && l.contains(" reason=\"registry: ")),
                run.toString());
        assertTrue(run.err().startsWith("auth-check: registry: " + registry.address() + " rejected"), run.toString());
    }

    @Test
    void warnsOnAGroupReadableConfigEvenWhenTheRegistryAcceptsIt() throws Exception {
        Path dir = configWith(PASSWORD, "rw-r-----");
        CommandResult run = authCheck(dir, "--json");
        assertEquals(ExitCodes.AUTH_CONFIG_EXPOSED, run.exit(), run.toString());
        JsonNode json = run.json();
        assertTrue(json.path("accepted").asBoolean(), run.toString());
        assertTrue(json.path("exposed").asBoolean());
        assertEquals("0640", json.path("mode").asText());
        assertTrue(json.path("reason").asText().contains("readable or writable by group (run: chmod 600 " + dir.resolve("config.json") + ")"),
                run.toString());
        CommandResult text = authCheck(dir);
        assertTrue(text.out().contains("mode         warn    "), text.toString());
        assertTrue(text.out().contains("WARN: user " + USER + " is accepted by " + registry.address() + ", but fix the file: mode: "), text.toString());
    }

    @Test
    void failsWithoutCredentialsForTheRegistry() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("other"));
        Files.writeString(dir.resolve("config.json"), "{\"auths\":{\"elsewhere.example:5000\":{\"auth\":\"" + basic(PASSWORD) + "\"}}}");
        CommandResult run = authCheck(dir);
        assertEquals(ExitCodes.AUTH_FAILED, run.exit(), run.toString());
        assertTrue(run.out().contains("holds no credentials for " + registry.address()), run.toString());
        assertTrue(run.out().contains("registry     skipped no credentials to try"), run.toString());

        CommandResult none = authCheck(temp.resolve("missing"));
        assertEquals(ExitCodes.AUTH_FAILED, none.exit(), none.toString());
        assertTrue(none.out().contains("no docker client config at " + temp.resolve("missing").resolve("config.json")), none.toString());
    }
}
