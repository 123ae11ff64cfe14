package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ccci.Cli.ExitCodes;
import ccci.Until;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.Provision;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.HostConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * prune's safety nets on a real, private engine (not in a swarm): the gates re-checked before every
 * phase, the lock, the engine's own 409, the engine going away mid-run, bad input, and a source scan
 * for the calls prune must never make. Every run uses --threshold 1 (so the disk gate holds unless a
 * case is about it), --until 1s, and a lock file of its own.
 */
@OnEveryEngine
class PruneSafetyTest {
    static final String IMAGE = "ccci-busybox:prune-safety";
    static final String STACK_CONTAINER = "ab12-0a0b0c_ci_commoninternet_net_web";
    /** Dangling images built long ago (well over 48h): old enough for any --until used here. */
    static final Instant LONG_AGO = Instant.parse("2024-01-02T03:04:05Z");
    static final long UNTIL_MILLIS = 1000;

    static SandboxEngine engine;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
        engine.importBusybox(IMAGE);
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    @AfterEach
    void leaveTheEngineRunningAndEmpty() throws InterruptedException {
        if (!engine.isRunning()) {
            restartEngine();
        }
        List<String> containers = lines(engine.dockerOk("ps", "-aq"));
        if (!containers.isEmpty()) {
            engine.dockerOk(concat(List.of("rm", "-f"), containers));
        }
        Set<String> dangling = danglingIds();
        if (!dangling.isEmpty()) {
            engine.dockerOk(concat(List.of("rmi"), List.copyOf(dangling)));
        }
    }

    // ---------------------------------------------------------------- 1. gates re-checked between phases

    @Test
    void aStackThatStartsBetweenPhasesStopsThePruneBeforeTheImages() throws Exception {
        String exited = exitedContainer("ccci-old-exited");
        List<String> dangling = oldDanglingImages(3, 100);
        waitUntilOlderThanUntil();

        List<PrunePolicy.Phase> checked = new ArrayList<>();
        PruneRun.Listener startAStack = new PruneRun.Listener() {
            @Override
            public void beforeGateCheck(PrunePolicy.Phase next) {
                checked.add(next);
                if (next == PrunePolicy.Phase.IMAGES) {
                    engine.dockerOk("run", "-d", "--network", "none", "--name", STACK_CONTAINER, IMAGE, "sleep", "3600");
                }
            }
        };
        PruneRun.Report report = runInProcess(startAStack);
        String text = PruneFormat.text(report);

        assertEquals(PruneRun.Outcome.STOPPED, report.outcome(), text);
        assertEquals(ExitCodes.STOPPED_GATES_CLOSED, report.exitCode(), text);
        assertEquals(List.of(PrunePolicy.Phase.CONTAINERS), phases(report), text);
        assertEquals(List.of(exited), report.phases().get(0).removedIds(), "phase 1 ran and removed the old container\n" + text);
        assertEquals(Optional.of(PrunePolicy.Phase.IMAGES), report.stoppedBefore());
        assertEquals(List.of(PrunePolicy.Phase.CONTAINERS, PrunePolicy.Phase.IMAGES), checked,
                "the gates were checked again right before the images phase");
        assertTrue(danglingIds().containsAll(dangling), "every dangling image is still there: " + danglingIds());
        assertTrue(report.problem().orElseThrow().startsWith(
                "gates closed before images: stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net"), report.problem().get());
        assertTrue(text.contains("; completed phases: containers" + System.lineSeparator()), text);
        assertTrue(text.contains("summary outcome=stopped exit=13 phases=containers containers_removed=1 "), text);
    }

    // ---------------------------------------------------------------- 2. the lock

    @Test
    void aLockHeldByAnotherProcessStopsPruneBeforeItTouchesAnything() throws Exception {
        Path lockFile = tmp.resolve("held-elsewhere.lock");
        exitedContainer("ccci-old-exited");
        oldDanglingImages(2, 200);
        waitUntilOlderThanUntil();
        String before = engineState();

        Process holder = java(List.of(HoldLock.class.getName(), lockFile.toString()), ProcessBuilder.Redirect.PIPE,
                ProcessBuilder.Redirect.to(tmp.resolve("holder.err").toFile()));
        try {
            awaitLine(holder, "held");
            CommandResult run = prune(lockFile);
            assertEquals(ExitCodes.LOCKED, run.exit(), run.toString());
            assertEquals("prune: another prune is running (lock " + lockFile + " held by pid " + holder.pid()
                    + "): nothing removed" + System.lineSeparator(), run.err());
            String summary = "summary outcome=locked exit=14 phases=none reclaimed_bytes=0 elapsed_ms=\\d+ reason="
                    + Pattern.quote("\"another prune is running (lock " + lockFile + " held by pid " + holder.pid()
                    + "): nothing removed\"");
            assertEquals(1, run.out().lines().count(), run.toString());
            assertTrue(run.out().strip().matches(summary), "a held lock still prints the summary line\n" + run);
            JsonNode json = prune(lockFile, "--json").json();
            assertEquals("locked", json.path("outcome").asText());
            assertEquals(ExitCodes.LOCKED, json.path("exitCode").asInt());
            assertFalse(json.path("pruneAllowed").asBoolean());
            assertTrue(json.path("reason").asText().startsWith("another prune is running"), json.toString());
            assertEquals(before, engineState(), "nothing removed");

            PruneLock.AlreadyLocked inProcess = assertThrows(PruneLock.AlreadyLocked.class, () -> PruneLock.acquire(lockFile));
            assertTrue(inProcess.getMessage().contains("held by pid " + holder.pid()), inProcess.getMessage());
        } finally {
            holder.getOutputStream().close(); // HoldLock releases and exits at end of input
            if (!holder.waitFor(20, TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
        }
        assertEquals(0, holder.exitValue(), Files.readString(tmp.resolve("holder.err")));
        PruneLock.acquire(lockFile).close(); // free again once the other process has ended
        assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(lockFile), "the last holder's pid");
    }

    @Test
    void aLockHeldInThisJvmStopsAPruneProcessAndIsFreeAfterRelease() throws Exception {
        Path lockFile = tmp.resolve("held-here.lock");
        String exited = exitedContainer("ccci-old-exited");
        List<String> dangling = oldDanglingImages(2, 300);
        List<String> layers = dangling.stream().map(id -> engine.dockerOk("image", "inspect", "-f", "{{json .RootFS.Layers}}", id)).toList();
        waitUntilOlderThanUntil();
        String before = engineState();

        try (PruneLock held = PruneLock.acquire(lockFile)) {
            PruneLock.AlreadyLocked again = assertThrows(PruneLock.AlreadyLocked.class, () -> PruneLock.acquire(lockFile),
                    "a second acquire in the same JVM");
            assertEquals("another prune is running (lock " + lockFile + " held by pid " + ProcessHandle.current().pid()
                    + "): nothing removed", again.getMessage());

            // POSIX record locks belong to the process: the failed second acquire must not have let go of the first
            CommandResult other = pruneProcess(lockFile);
            assertEquals(ExitCodes.LOCKED, other.exit(), other.toString());
            assertEquals(List.of("prune: another prune is running (lock " + lockFile + " held by pid "
                    + ProcessHandle.current().pid() + "): nothing removed"), other.err().lines().toList(), other.toString());
            assertTrue(other.out().startsWith("summary outcome=locked exit=14 "), other.toString());
            assertFalse((other.out() + other.err()).contains("\tat "), other.toString());
            assertEquals(before, engineState(), "nothing removed");
        }

        assertTrue(Files.exists(lockFile), "the lock file stays; only the lock on it is gone");
        CommandResult after = prune(lockFile, "--json");
        // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
        assertEquals(ExitCodes.INSUFFICIENT, after.exit(), after.toString());
        assertEquals("", after.err(), after.toString());
        JsonNode json = after.json();
        assertEquals("insufficient", json.path("outcome").asText(), after.toString());
        Set<String> removed = new TreeSet<>();
        json.path("phases").forEach(p -> p.path("removedIds").forEach(id -> removed.add(id.asText())));
        assertTrue(removed.contains(exited) && removed.containsAll(dangling), "the same state is pruned once the lock is free: " + removed);
        JsonNode images = json.path("phases").get(1);
        assertEquals("images", images.path("name").asText());
        Set<String> imagesRemoved = new TreeSet<>();
        images.path("removedIds").forEach(id -> imagesRemoved.add(id.asText()));
        assertEquals(new TreeSet<>(dangling), imagesRemoved, "image IDs only, not the layers deleted with them (layers: "
                + layers + ")");
        assertEquals(dangling.size(), images.path("removed").asInt());
    }

    // ---------------------------------------------------------------- 3. the engine's own 409

    @Test
    void anotherToolsPruneMakesTheEngineAnswer409AndOurRunRemovesNothing() throws Exception {
        Path lockFile = tmp.resolve("busy.lock");
        prune(lockFile, "--dry-run"); // warm up this JVM, so our run reaches the engine within the window
        List<String> missed = new ArrayList<>();
        for (int attempt = 1; attempt <= 3; attempt++) {
            int bulk = attempt == 1 ? 150 : 250; // a wider window when a busy machine made us miss it
            leaveTheEngineRunningAndEmpty();
            String bystander = exitedContainer("ccci-bystander"); // not matched by the other tool's filter
            List<String> dangling = oldDanglingImages(2, 400);
            createBulkContainers(bulk);
            waitUntilOlderThanUntil();

            Process other = new ProcessBuilder(engine.dockerCommandLine("container", "prune", "-f", "--filter", "label=ccci-bulk"))
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("other-prune.out").toFile()).start();
            CommandResult ours;
            try (Engine watch = Engine.connect(engine.host())) {
                if (!awaitBulkShrinking(watch, bulk, other)) {
                    other.waitFor(30, TimeUnit.SECONDS);
                    missed.add("attempt " + attempt + ": did not see the other prune at work");
                    continue;
                }
                ours = prune(lockFile, "--json");
            } finally {
                if (!other.waitFor(30, TimeUnit.SECONDS)) {
                    other.destroyForcibly();
                    fail("the other prune did not finish in 30 s");
                }
            }
            assertEquals(0, other.exitValue(), Files.readString(tmp.resolve("other-prune.out")));
            if (ours.exit() == ExitCodes.OK) {
                missed.add("attempt " + attempt + ": the other prune was done before ours reached the engine");
                continue;
            }

            assertEquals(ExitCodes.ENGINE_BUSY, ours.exit(), missed + "\n" + ours);
            List<String> err = ours.err().lines().toList();
            assertEquals(1, err.size(), ours.toString());
            assertTrue(err.get(0).startsWith("prune: the engine is already running a prune (HTTP 409"), ours.toString());
            assertTrue(err.get(0).endsWith("containers not pruned"), ours.toString());
            assertFalse((ours.out() + ours.err()).contains("\tat "), ours.toString());
            JsonNode json = ours.json();
            assertEquals("failed", json.path("outcome").asText());
            assertEquals(ExitCodes.ENGINE_BUSY, json.path("exitCode").asInt());
            assertEquals(0, json.path("phases").size(), "no phase of ours completed: " + json.path("phases"));
            assertEquals("containers", json.path("stoppedBefore").asText());
            assertEquals(0, json.path("removed").size(), json.path("removed").toString());

            assertEquals(List.of(bystander), lines(engine.dockerOk("ps", "-aq", "--no-trunc")),
                    "the other tool removed its own containers, ours removed none");
            assertTrue(danglingIds().containsAll(dangling), "our run never got to the images");
            System.err.println("[PruneSafetyTest] 409 on attempt " + attempt + " " + missed);
            return;
        }
        fail("could not catch the engine in another prune in 3 attempts: " + missed);
    }

    // ---------------------------------------------------------------- 4. the engine goes away mid-run

    @Test
    void theEngineStoppingDuringAPhaseIsEngineFailedWithTheCompletedPhases() throws Exception {
        String exited = exitedContainer("ccci-old-exited");
        List<String> dangling = oldDanglingImages(2, 500);
        waitUntilOlderThanUntil();

        PruneRun.Listener stopTheEngine = new PruneRun.Listener() {
            @Override
            public void phaseStarting(PrunePolicy.Phase phase) {
                if (phase == PrunePolicy.Phase.IMAGES) {
                    engine.stopEngine();
                }
            }
        };
        PruneRun.Report report = runInProcess(stopTheEngine);
        String text = PruneFormat.text(report);

        assertEquals(PruneRun.Outcome.FAILED, report.outcome(), text);
        assertEquals(ExitCodes.ENGINE_FAILED, report.exitCode(), text);
        assertEquals(List.of(PrunePolicy.Phase.CONTAINERS), phases(report), text);
        assertEquals(List.of(exited), report.phases().get(0).removedIds(), text);
        assertEquals(Optional.of(PrunePolicy.Phase.IMAGES), report.stoppedBefore());
        String problem = report.problem().orElseThrow();
        assertTrue(problem.startsWith("during images: cannot reach the Docker engine at " + engine.host()), problem);
        assertEquals(1, problem.lines().count(), problem);
        assertTrue(text.contains("stopped: during images: "), text);
        assertTrue(text.contains("; completed phases: containers" + System.lineSeparator()), text);
        assertTrue(text.contains("summary outcome=failed exit=16 phases=containers "), text);
        assertEquals(Optional.empty(), report.imagesAfter(), "the engine was gone when the report was made");

        restartEngine();
        assertTrue(danglingIds().containsAll(dangling), "the images phase never ran: " + danglingIds());
    }

    // ---------------------------------------------------------------- 5. bad input

    static Stream<List<String>> badInput() {
        return Stream.of(
                List.of("--until", "yesterday"),
                List.of("--until", "-1h"),
                List.of("--until", "0"),
                List.of("--until", "0h"),
                List.of("--threshold", "0"),
                List.of("--threshold", "abc"),
                List.of("--stack-pattern", "("),
                List.of("--path", "/nonexistent"),
                List.of("--host", "bogus://x"));
    }

    @ParameterizedTest
    @MethodSource("badInput")
    void badInputIsOneLineAndExit12AndRemovesNothing(List<String> bad) {
        oldDanglingImages(1, 600);
        String before = engineState();
        List<String> args = new ArrayList<>(bad);
        for (String[] fallback : new String[][] {{"--host", engine.host()}, {"--threshold", "1"}, {"--until", "1s"},
                {"--lock-file", tmp.resolve("bad-input.lock").toString()}}) {
            if (!bad.contains(fallback[0])) {
                args.addAll(List.of(fallback));
            }
        }
        CommandResult run = ScriptRun.of("Prune", args.toArray(String[]::new));
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().startsWith("prune: "), run.toString());
        assertTrue(run.err().contains(bad.get(1)), "quotes the offending value: " + run.err());
        assertFalse((run.out() + run.err()).contains("\tat "), run.toString());
        assertEquals(before, engineState(), "nothing removed");
    }

    @Test
    void anUntilAsLongAsACommandLineArgumentCanBeIsReadNotACrash() {
        String longest = "1s".repeat(60_000); // 120 KB: one argument may be up to 128 KiB on Linux
        CommandResult run = ScriptRun.of("Prune", "--host", engine.host(), "--threshold", "1", "--until", longest, "--dry-run");
        assertEquals(ExitCodes.OK, run.exit(), run.toString().substring(0, Math.min(2000, run.toString().length())));
        assertEquals("", run.err());
        assertFalse(run.out().contains("\tat "));
    }

    @Test
    void anUnreachableEngineKeepsTheCacheAndExits11() {
        oldDanglingImages(1, 700);
        String before = engineState();
        CommandResult run = ScriptRun.of("Prune", "--host", "unix:///nonexistent.sock", "--threshold", "1", "--until", "1s",
                "--lock-file", tmp.resolve("unreachable.lock").toString());
        assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
        assertTrue(run.out().contains(PruneFormat.NOOP_LINE), run.toString());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("summary outcome=failed exit=11 phases=none ")
                && l.contains(" reason=\"disk: cannot measure: cannot reach the Docker engine at unix:///nonexistent.sock: ")),
                "an unreachable engine is a failure, with its reason\n" + run);
        List<String> err = run.err().lines().toList();
        assertEquals(1, err.size(), run.toString());
        String prefix = "prune: cannot reach the Docker engine at unix:///nonexistent.sock: ";
        assertTrue(err.get(0).startsWith(prefix), run.toString());
        assertTrue(err.get(0).substring(prefix.length()).matches("(?i).*(no such file|not found|does not exist|enoent).*"),
                "the cause says the socket is missing: " + err.get(0));
        assertFalse((run.out() + run.err()).contains("\tat "), run.toString());
        assertEquals(before, engineState(), "nothing removed");
    }

    // ---------------------------------------------------------------- 6. never the forbidden things

    /** Each: what must never appear in lib/ or scripts/ code (comments aside), and why. */
    static final Map<String, Pattern> FORBIDDEN = Map.ofEntries(
            Map.entry("image prune with dangling=false (prunes tagged images)", Pattern.compile("withDangling\\s*\\(\\s*false\\s*\\)")),
            Map.entry("dangling false as a filter", Pattern.compile("dangling\\\\?\"?\\s*[:=]\\s*\\[?\\s*\\\\?\"?(false|0)\\b")),
            Map.entry("volume prune", Pattern.compile("PruneType\\s*\\.\\s*VOLUMES|/volumes/prune")),
            Map.entry("network prune", Pattern.compile("PruneType\\s*\\.\\s*NETWORKS|/networks/prune")),
            Map.entry("system prune", Pattern.compile("/system/prune")),
            Map.entry("--all", Pattern.compile("\"--all\"")),
            // a JSON filter key "all", or an all= parameter (listing with GET /images/json?all=1 is fine)
            Map.entry("all as a prune parameter", Pattern.compile("\\\\?\"all\\\\?\"|(?<!/json)\\?all=|&all=")),
            Map.entry("forced removal", Pattern.compile("withForce\\s*\\(\\s*true|[?&]force=")));

    @Test
    void noCodeInLibOrScriptsCanPruneMoreThanDanglingImagesOrForce() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (String dir : List.of("lib", "scripts")) {
            try (Stream<Path> files = Files.list(Repo.root().resolve(dir))) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(sources::add);
            }
        }
        assertTrue(sources.stream().anyMatch(f -> f.endsWith("lib/PrunePolicy.java")), sources.toString());
        assertTrue(sources.stream().anyMatch(f -> f.endsWith("scripts/prune.java")), sources.toString());
        List<String> found = new ArrayList<>();
        for (Path source : sources) {
            found.addAll(forbiddenIn(source.toString(), Files.readString(source)));
        }
        assertEquals(List.of(), found);
    }

    @Test
    void theSourceScanFindsEachForbiddenThingAndIgnoresComments() {
        String code = String.join("\n",
                "api.pruneCmd(PruneType.VOLUMES).exec();",
                "api.pruneCmd(PruneType.NETWORKS).exec();",
                "api.pruneCmd(PruneType.IMAGES).withDangling(false).exec();",
                "api.removeImageCmd(id).withForce(true).exec();",
                "engine.postJson(\"/volumes/prune\");",
                "engine.postJson(\"/networks/prune\");",
                "engine.postJson(\"/system/prune\");",
                "engine.postJson(\"/images/prune?filters=\" + encode(\"{\\\"dangling\\\":[\\\"false\\\"]}\"));",
                "engine.postJson(\"/build/prune?all=1\");",
                "String q = \"{\\\"all\\\":[\\\"true\\\"]}\";",
                "List.of(\"docker\", \"image\", \"prune\", \"--all\");",
                "engine.send(\"DELETE\", \"/images/x?force=1\");");
        Set<String> kinds = forbiddenIn("sample", code).stream().map(s -> s.replaceFirst("^sample:\\d+: ", "").replaceFirst(": .*", ""))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(FORBIDDEN.keySet()), kinds);
        assertEquals(1, forbiddenIn("sample", "engine.postJson(request + \"&all=true\");").size());
        assertEquals(List.of(), forbiddenIn("listing", String.join("\n",
                "engine.call(\"GET /images/json?all=1\", () -> engine.api().listImagesCmd().withShowAll(true).exec());",
                "engine.getJson(\"/containers/json?all=1\");")));
        assertEquals(List.of(), forbiddenIn("comments", String.join("\n",
                "/** no \"all\", no volumes: never PruneType.VOLUMES or withDangling(false) */",
                "// not withForce(true), not \"--all\"",
                "String url = \"http://x/y\"; // /networks/prune")));
    }

    @Test
    void eachPhaseSendsExactlyItsOwnQuery() {
        Until day = Until.parse("24h");
        assertEquals("/containers/prune?filters=%7B%22until%22%3A%5B%2286400s%22%5D%7D",
                PrunePolicy.request(PrunePolicy.Phase.CONTAINERS, day));
        assertEquals("/images/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%2C%22until%22%3A%5B%2286400s%22%5D%7D",
                PrunePolicy.request(PrunePolicy.Phase.IMAGES, day));
        assertEquals("/build/prune?filters=%7B%22until%22%3A%5B%2286400s%22%5D%7D",
                PrunePolicy.request(PrunePolicy.Phase.BUILD_CACHE, day));

        ObjectMapper json = new ObjectMapper();
        for (String age : List.of("1s", "90m", "7d", "1d12h", "3650d")) {
            Until until = Until.parse(age);
            for (PrunePolicy.Phase phase : PrunePolicy.Phase.values()) {
                String request = PrunePolicy.request(phase, until);
                String path = request.substring(0, request.indexOf('?'));
                String query = request.substring(request.indexOf('?') + 1);
                assertEquals(Map.of(PrunePolicy.Phase.CONTAINERS, "/containers/prune", PrunePolicy.Phase.IMAGES, "/images/prune",
                        PrunePolicy.Phase.BUILD_CACHE, "/build/prune").get(phase), path);
                assertTrue(query.startsWith("filters=") && !query.contains("&"), "one parameter only: " + request);
                String filters = URLDecoder.decode(query.substring("filters=".length()), StandardCharsets.UTF_8);
                JsonNode node;
                try {
                    node = json.readTree(filters);
                } catch (IOException e) {
                    throw new AssertionError(filters, e);
                }
                List<String> keys = new ArrayList<>();
                node.fieldNames().forEachRemaining(keys::add);
                assertEquals(phase == PrunePolicy.Phase.IMAGES ? List.of("dangling", "until") : List.of("until"), keys, filters);
                assertEquals("[\"" + until.engineFilter() + "\"]", node.get("until").toString());
                if (phase == PrunePolicy.Phase.IMAGES) {
                    assertEquals("[\"true\"]", node.get("dangling").toString());
                }
                for (String never : List.of("all", "volume", "network", "force", "false")) {
                    assertFalse(request.contains(never) || filters.contains(never), never + " in " + request);
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Runs prune in this JVM against the sandbox, as the command would, with a listener of the test's. */
    static PruneRun.Report runInProcess(PruneRun.Listener listener) {
        try (Engine docker = Engine.connect(engine.host())) {
            return PruneRun.run(() -> docker, PruneRun.Settings.of(GatePolicy.Settings.parse("1", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null),
                    Until.parse("1s")), false, listener, Clock.systemUTC());
        }
    }

    static void restartEngine() {
        engine.restartEngine();
    }

    static CommandResult prune(Path lockFile, String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host(), "--threshold", "1", "--until", "1s",
                "--lock-file", lockFile.toString()));
        args.addAll(Arrays.asList(more));
        return ScriptRun.of("Prune", args.toArray(String[]::new));
    }

    /** The prune command in a JVM of its own, from this test's classpath, as root. */
    static CommandResult pruneProcess(Path lockFile) throws Exception {
        Path out = tmp.resolve("child.out");
        Path err = tmp.resolve("child.err");
        Process p = java(List.of("Prune", "--host", engine.host(), "--threshold", "1", "--until", "1s",
                "--lock-file", lockFile.toString()), ProcessBuilder.Redirect.to(out.toFile()), ProcessBuilder.Redirect.to(err.toFile()));
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("prune process did not finish in 60 s");
        }
        return new CommandResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Process java(List<String> mainAndArgs, ProcessBuilder.Redirect stdout, ProcessBuilder.Redirect stderr)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        command.addAll(mainAndArgs);
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout).redirectError(stderr);
        builder.environment().remove("DOCKER_HOST");
        return builder.start();
    }

    /** Holds the prune lock in a process of its own until its standard input ends. */
    static final class HoldLock {
        public static void main(String[] args) throws Exception {
            try (PruneLock lock = PruneLock.acquire(Path.of(args[0]))) {
                System.out.println("held");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // wait for the test to close our input
                }
            }
        }
    }

    static void awaitLine(Process p, String expected) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        ExecutorService single = Executors.newSingleThreadExecutor();
        try {
            Future<String> line = single.submit(reader::readLine);
            assertEquals(expected, line.get(30, TimeUnit.SECONDS));
        } finally {
            single.shutdownNow();
        }
    }

    /** A container that ran `true` and exited: what container prune removes once it is older than --until. */
    static String exitedContainer(String name) {
        engine.dockerOk("run", "--name", name, "--network", "none", IMAGE, "true");
        return engine.dockerOk("inspect", "-f", "{{.Id}}", name);
    }

    static List<String> oldDanglingImages(int count, long seed) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(engine.loadImage(ImageSpec.dangling(LONG_AGO, 4096, seed + i)));
        }
        return ids;
    }

    /**
     * Waits until every container is older than --until 1s as the engine sees it: the engine turns
     * "1s" into now - 1 s cut down to a whole second (and compares the nanosecond creation time), so
     * a container is pruned only from the whole second after its creation plus 1 s.
     */
    static void waitUntilOlderThanUntil() {
        PruneScenario.awaitAllOlderThan(engine, Duration.ofMillis(UNTIL_MILLIS));
    }

    /** Created (never started) containers labelled ccci-bulk, made through the API on a few threads. */
    static void createBulkContainers(int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (Engine docker = Engine.connect(engine.host())) {
            List<Future<?>> made = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                made.add(pool.submit(() -> docker.api().createContainerCmd(IMAGE).withCmd("true")
                        .withLabels(Map.of("ccci-bulk", "1"))
                        .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none")).exec()));
            }
            for (Future<?> f : made) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** True once the other prune has removed some but not all of the bulk containers. */
    static boolean awaitBulkShrinking(Engine watch, int bulk, Process other) {
        int[] left = {bulk};
        Await.within(() -> {
            left[0] = watch.api().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("ccci-bulk", "1")).exec().size();
            return left[0] < bulk || !other.isAlive();
        }, Duration.ofSeconds(15));
        return left[0] < bulk && left[0] > bulk / 5;
    }

    static Set<String> danglingIds() {
        return new TreeSet<>(lines(engine.dockerOk("images", "-q", "--no-trunc", "--filter", "dangling=true")));
    }

    /** Every image ID and every container, to compare before and after a run that must remove nothing. */
    static String engineState() {
        return "images:\n" + String.join("\n", new TreeSet<>(lines(engine.dockerOk("images", "-aq", "--no-trunc"))))
                + "\ncontainers:\n" + String.join("\n", new TreeSet<>(lines(engine.dockerOk("ps", "-a", "--no-trunc",
                "--format", "{{.ID}} {{.Names}} {{.State}}"))));
    }

    static List<PrunePolicy.Phase> phases(PruneRun.Report report) {
        return report.phases().stream().map(PruneRun.PhaseResult::phase).toList();
    }

    /** Findings "file:line: kind: text" for every forbidden pattern outside comments. */
    static List<String> forbiddenIn(String file, String source) {
        List<String> found = new ArrayList<>();
        List<String> code = withoutComments(source).lines().toList();
        for (int n = 0; n < code.size(); n++) {
            for (Map.Entry<String, Pattern> rule : new java.util.TreeMap<>(FORBIDDEN).entrySet()) {
                if (rule.getValue().matcher(code.get(n)).find()) {
                    found.add(file + ":" + (n + 1) + ": " + rule.getKey() + ": " + code.get(n).strip());
                }
            }
        }
        return found;
    }

    /** Java source with comments blanked out (line numbers kept); strings, chars and text blocks kept. */
    static String withoutComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? s.length() : end + 2;
                s.substring(i, end).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                i = end;
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                end = end < 0 ? s.length() : end + 3;
                out.append(s, i, end);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, s.length());
                out.append(s, i, j);
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    static List<String> lines(String text) {
        return text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    static String[] concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }

}
