package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The plain units of nix/systemd/ for hosts without Nix. systemd does not run here (no PID 1), so:
 * systemd-analyze verify checks them, with the documented install paths moved into a temp dir;
 * they are held to the NixOS module's settings; and their ExecStart runs the way the unit runs it
 * (same arguments, only the unit's environment and systemd's PATH), after the documented warm-up,
 * on a real engine. What is not exercised: systemd's own sandboxing (PrivateTmp, ProtectSystem...)
 * and the timer firing.
 */
class SystemdUnitsTest {
    static final String UNIT = "ci-docker-prune";
    static SystemdUnit service;
    static SystemdUnit timer;

    @TempDir static Path root;
    static Path opt;
    static Path state;
    static Path cache;

    @BeforeAll
    static void install() throws IOException {
        service = SystemdUnit.parse(Repo.read("nix/systemd/" + UNIT + ".service"));
        timer = SystemdUnit.parse(Repo.read("nix/systemd/" + UNIT + ".timer"));
        // the documented layout (docs/systemd.md), under a temp dir instead of /
        opt = Files.createDirectories(root.resolve("opt/cc-ci"));
        state = root.resolve("var/lib/cc-ci");
        cache = Files.createDirectories(root.resolve("var/cache/" + UNIT));
        for (String part : List.of("jbang", "jbang-catalog.json", "lib", "scripts")) {
            Cmd.run("cp", "-r", Repo.root().resolve(part).toString(), opt.toString()).ok();
        }
    }

    /** The documented install paths, moved under the temp dir. */
    static String moved(String text) {
        return text.replace("/opt/cc-ci", opt.toString())
                .replace("/var/lib/cc-ci", state.toString())
                .replace("/var/cache/" + UNIT, cache.toString());
    }

    @Test
    void systemdAnalyzeVerifiesBothUnitsWithoutAWarning() throws IOException {
        Path units = Files.createDirectories(root.resolve("units"));
        for (String suffix : List.of(".service", ".timer")) {
            Files.writeString(units.resolve(UNIT + suffix), moved(Repo.read("nix/systemd/" + UNIT + suffix)));
        }
        Cmd verify = NixTest.verify(units.resolve(UNIT + ".service"), units.resolve(UNIT + ".timer"));
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

        // the same prune arguments; JNA unpacked in the CacheDirectory, as on NixOS
        List<String> nixArgs = NixTest.execStart(nixService);
        List<String> args = SystemdUnit.execArgs(service.one("Service", "ExecStart"));
        int script = args.indexOf("/opt/cc-ci/scripts/prune.java");
        assertTrue(script > 0, args.toString());
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(script + 1, args.size()));
        assertEquals(List.of("/opt/cc-ci/jbang", "--offline", "run",
                "--java-options=-Djna.tmpdir=/var/cache/" + service.one("Service", "CacheDirectory")), args.subList(0, script));
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
     * Before the warm-up the daily run fails fast instead of downloading; after the warm-up command
     * of docs/systemd.md the unit's exact ExecStart prunes a real engine offline (a dry run: the
     * shared sandbox engine is not emptied).
     */
    @Test
    void theDailyRunIsOfflineAndWorksAfterTheWarmUp() throws Exception {
        Map<String, String> env = unitEnvironment();
        assertFalse(env.containsKey("LANG"), "no locale, as systemd runs it: the sources must compile as ASCII");
        seedLauncherCache(Path.of(env.get("CC_CI_LAUNCHER_CACHE")));
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(moved(service.one("Service", "ExecStart"))));
        daily.addAll(List.of("--dry-run", "--json", "--host", Sandboxes.sharedSwarm().host()));

        Cmd cold = Cmd.run(daily, env, root);
        assertTrue(cold.exit() >= 1 && cold.exit() <= 4 && cold.err().contains("[jbang] [ERROR]"),
                "before the warm-up the daily run fails in JBang, offline:\n" + cold);
        Path repo = Path.of(env.get("JBANG_REPO"));
        try (var jars = Files.exists(repo) ? Files.walk(repo) : java.util.stream.Stream.<Path>empty()) {
            assertEquals(List.of(), jars.filter(p -> p.toString().endsWith(".jar")).toList(), "downloaded while --offline");
        }

        Cmd warmUp = Cmd.run(List.of("/bin/bash", "-c", moved(warmUpCommand())), Map.of("PATH", NixTest.SYSTEMD_PATH), root);
        assertEquals(0, warmUp.exit(), warmUp.toString());

        Cmd run = Cmd.run(daily, env, root);
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals(3, report.path("gates").size(), report.toString());
        for (JsonNode gate : report.path("gates")) {
            assertNotEquals("unknown", gate.path("state").asText(), "gate not evaluated: " + report);
        }
    }

    /** The warm-up of docs/systemd.md: `env` with exactly the unit's Environment=, then `jbang build`. */
    static String warmUpCommand() {
        Matcher m = Pattern.compile("(?m)^env ((?:\\S+=\\S+ )+)(/opt/cc-ci/jbang build /opt/cc-ci/scripts/prune\\.java)$")
                .matcher(Repo.read("docs/systemd.md"));
        assertTrue(m.find(), "docs/systemd.md has no warm-up command");
        Map<String, String> documented = new LinkedHashMap<>();
        for (String assignment : m.group(1).strip().split(" ")) {
            documented.put(assignment.substring(0, assignment.indexOf('=')), assignment.substring(assignment.indexOf('=') + 1));
        }
        assertEquals(service.environment(), documented, "the warm-up must run in the unit's environment");
        return m.group();
    }

    /**
     * The launcher's own first fetch (JBang with Maven) is LauncherTest's business: when this user's
     * launcher cache holds the pinned jars, they are copied instead of fetched again.
     */
    static void seedLauncherCache(Path target) throws IOException {
        String launcher = Repo.read("jbang");
        String jbang = launcher.replaceAll("(?s).*\nJBANG_VERSION=(\\S+)\n.*", "$1");
        String gson = launcher.replaceAll("(?s).*\nGSON_VERSION=(\\S+)\n.*", "$1");
        Path mine = Path.of(System.getProperty("user.home"), ".cache/cc-ci", "jbang-" + jbang + "-gson-" + gson);
        if (Files.exists(mine.resolve("jbang-cli-" + jbang + ".jar"))) {
            Files.createDirectories(target);
            Cmd.run("cp", "-r", mine.toString(), target.toString()).ok();
        }
    }
}
