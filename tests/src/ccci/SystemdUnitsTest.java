package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.Sandboxes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain units of nix/systemd/ for hosts without Nix, installed by nix/systemd/install into a
 * temp dir instead of /var/lib/cc-ci. systemd does not run here (no PID 1), so: systemd-analyze
 * verify checks the installed units; they are held to the NixOS module's settings; and their
 * ExecStart runs the way the unit runs it (same arguments, only the unit's environment and
 * systemd's PATH) on a real engine. What is not exercised: systemd's own sandboxing (PrivateTmp,
 * ProtectSystem...) and the timer firing.
 */
class SystemdUnitsTest {
    static final String UNIT = "ci-docker-prune";
    static SystemdUnit service;
    static SystemdUnit timer;

    @TempDir static Path root;
    static Path prefix;
    static Path units;
    static Path cache;

    /** The documented install (nix/systemd/README.md), with a temp prefix and unit dir. */
    @BeforeAll
    static void install() throws IOException {
        service = SystemdUnit.parse(Repo.read("nix/systemd/" + UNIT + ".service"));
        timer = SystemdUnit.parse(Repo.read("nix/systemd/" + UNIT + ".timer"));
        prefix = root.resolve("var/lib/cc-ci");
        units = root.resolve("units");
        cache = Files.createDirectories(root.resolve("var/cache/" + UNIT));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", NixTest.SYSTEMD_PATH);
        env.put("HOME", System.getProperty("user.home")); // the launcher's and JBang's caches
        env.put("JBANG_DIR", root.resolve("jbang").toString());
        env.put("JBANG_CACHE_DIR", Repo.jbangCacheDir());
        env.put("DOCKER_HOST", Sandboxes.sharedSwarm().host()); // for the class-data-sharing training run
        CommandResult installed = Cmd.run(List.of(Repo.root().resolve("nix/systemd/install").toString(),
                "--prefix", prefix.toString(), "--unit-dir", units.toString(), "--no-enable"), env, root);
        assertEquals(0, installed.exit(), installed.toString());
    }

    /** The documented paths, moved under the temp dir. */
    static String moved(String text) {
        return text.replace("/var/lib/cc-ci", prefix.toString())
                .replace("/var/cache/" + UNIT, cache.toString());
    }

    @Test
    void systemdAnalyzeVerifiesTheInstalledUnitsWithoutAWarning() throws IOException {
        assertEquals(Repo.read("nix/systemd/" + UNIT + ".service").replace("/var/lib/cc-ci/", prefix + "/"),
                Files.readString(units.resolve(UNIT + ".service")),
                "install copies the unit, with its prefix");
        CommandResult verify = NixTest.verify(units.resolve(UNIT + ".service"), units.resolve(UNIT + ".timer"));
        assertEquals(0, verify.exit(), verify.toString());
        assertEquals("", verify.out() + verify.err(), "systemd-analyze verify has warnings");
    }

    @Test
    void theyScheduleRunAndConfineLikeTheNixModule() throws Exception {
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", "{\"d\":{\"settings\":{\"enable\":true}}}"), "scenarios.d.systemd");
        JsonNode nixService = nix.path("services").path(UNIT);
        JsonNode nixTimer = nix.path("timers").path(UNIT);

        nixTimer.path("timerConfig").fields().forEachRemaining(f ->
                assertEquals(text(f.getValue()), timer.one("Timer", f.getKey()), "timer " + f.getKey()));
        assertEquals(NixTest.normalizedCalendar("daily"), NixTest.normalizedCalendar(timer.one("Timer", "OnCalendar")));
        assertEquals(List.of("timers.target"), timer.section("Install").get("WantedBy"));

        assertEquals(List.of("docker.service"), service.section("Unit").get("After"));
        assertEquals(List.of("docker.service"), service.section("Unit").get("Requires"));
        nixService.path("serviceConfig").fields().forEachRemaining(f -> {
            if (!f.getKey().equals("ExecStart")) {
                assertEquals(text(f.getValue()), service.one("Service", f.getKey()), "service " + f.getKey());
            }
        });
        assertFalse(service.section("Service").containsKey("MemoryDenyWriteExecute"), "breaks the JIT");

        // the same prune arguments, and JNA's directory the CacheDirectory, as on NixOS
        List<String> nixArgs = NixTest.execStart(nixService);
        List<String> args = SystemdUnit.execArgs(service.one("Service", "ExecStart"));
        assertEquals("/var/lib/cc-ci/app/bin/prune", args.get(0));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
        assertEquals(Map.of("CC_CI_JNA_TMPDIR", "/var/cache/" + service.one("Service", "CacheDirectory")), service.environment());
    }

    private static String text(JsonNode v) {
        return v.isBoolean() ? (v.asBoolean() ? "true" : "false") : v.asText();
    }

    /** What the service runs with: systemd's PATH and the unit's Environment= lines, nothing else. */
    static Map<String, String> unitEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", NixTest.SYSTEMD_PATH);
        service.environment().forEach((k, v) -> env.put(k, moved(v)));
        return env;
    }

    /**
     * The unit's exact ExecStart, with only the unit's environment and systemd's PATH (no HOME, no
     * JBang, no Maven), prunes a real engine: a dry run, with --path aimed at the sandbox's data root.
     */
    @Test
    void theDailyRunNeedsNothingButTheBuiltCommand() throws Exception {
        Map<String, String> env = unitEnvironment();
        assertFalse(env.containsKey("LANG"), "no locale, as systemd runs it");
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(moved(service.one("Service", "ExecStart"))));
        assertFalse(String.join(" ", daily).contains("jbang"), "the daily run does not go through JBang: " + daily);
        daily.set(daily.indexOf("--path") + 1, Sandboxes.sharedSwarm().dataRoot().toString());
        daily.set(daily.indexOf("--threshold") + 1, "1");
        daily.addAll(List.of("--dry-run", "--json", "--host", Sandboxes.sharedSwarm().host(),
                "--lock-file", root.resolve("prune.lock").toString()));

        CommandResult run = Cmd.run(daily, env, root);
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals("dry-run", report.path("outcome").asText(), report.toString());
        for (JsonNode gate : report.path("gates")) {
            assertEquals("holds", gate.path("state").asText(), "every gate evaluated: " + report);
        }
        assertEquals("", run.err());
    }

    /**
     * Each installed command starts from its class-data-sharing archive: with -Xshare:on the JVM
     * refuses to start when the archive does not match the jars (e.g. one rebuilt after training).
     */
    @Test
    void everyInstalledCommandsArchiveIsUsable() throws IOException {
        for (String command : List.of("gates", "prune")) {
            String wrapper = Files.readString(prefix.resolve("app/bin/" + command));
            Matcher exec = Pattern.compile("(?m)^exec (.*) \"\\$@\"$").matcher(wrapper);
            assertTrue(exec.find(), wrapper);
            List<String> strict = new ArrayList<>();
            for (String arg : exec.group(1).split(" ")) {
                if (!arg.startsWith("-Djna.tmpdir=")) {
                    strict.add(arg.equals("-Xshare:auto") ? "-Xshare:on" : arg);
                }
            }
            assertTrue(strict.contains("-Xshare:on"), wrapper);
            strict.add("--version");
            CommandResult run = Cmd.run(strict, Map.of("PATH", NixTest.SYSTEMD_PATH), root);
            assertEquals(0, run.exit(), command + "'s archive cannot be used:\n" + run);
        }
    }

    /** The daily no-op on a disk below the threshold: decided from --path alone, the engine not even named. */
    @Test
    void theDailyNoOpBelowTheThresholdNeedsNoEngine() {
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(moved(service.one("Service", "ExecStart"))));
        daily.set(daily.indexOf("--path") + 1, root.toString());
        daily.addAll(List.of("--host", "unix://" + root.resolve("no-engine.sock"), "--lock-file", root.resolve("prune.lock").toString()));
        CommandResult run = Cmd.run(daily, unitEnvironment(), root);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().startsWith("keeping local image cache, nothing to do: disk: "), run.toString());
    }
}
