package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.EngineApi;
import ccci.JavaProcess;
import ccci.PruneFormat;
import ccci.PruneLock;
import ccci.PrunePolicy;
import ccci.PrunePolicy.Phase;
import ccci.PruneRun;
import ccci.ScriptRun;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.CommandResult;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * prune's safety rules, each on the fake host (the lock: on real files and processes, with no
 * engine to reach): only the three kinds of change reach the engine (no volume, network, system or
 * image prune, no force); the image phase never removes a tagged image, nor the newest registry
 * image of a repository (the cache); every phase keeps what is younger than --until; the lock keeps
 * a second prune out; the gates are checked again before every phase; an image that got a user or
 * a tag since the plan stays; the engine's 409 and its failures are reported with their own codes.
 * In-use cases: {@link PruneInUseTest}; a torn-down stack's image: {@link PruneRegistryCacheTest}.
 */
class PruneSafetyTest {
    static final String STACK = "ab12-0a0b0c_ci_commoninternet_net_web";
    static final Duration MONTH = Duration.ofDays(30);
    @TempDir Path tmp;

    /** A host with something for every phase to remove and keep, everything old unless said otherwise. */
    static FakeHost richHost(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        FakeState.Image base = s.image("ccci/base:1").created(old);
        s.container("old-job", base, "exited").created(old);
        s.container("web", base, "running").created(old);
        untagged(s, store, old);
        untagged(s, store, old).digest("localhost:5000/acc/app@" + OnFake.digest("app-1"));
        s.image("ccci/idle:1").created(old);
        s.buildCache("regular", 1000, Optional.of(old));
        s.volume("data");
        s.volume("certs");
        host.clearRequests();
        return host;
    }

    /** An untagged image as old as {@code then} on its store (on the containerd store by the engine's record). */
    static FakeState.Image untagged(FakeState s, FakeHost.Store store, Instant then) {
        FakeState.Image image = s.image().created(then);
        return store == FakeHost.Store.CONTAINERD ? image.lastTagTime(then) : image;
    }

    // ---------------------------------------------------------------- what reaches the engine

    static final List<Pattern> ALLOWED_CHANGES = List.of(
            Pattern.compile("POST /containers/prune\\?filters=\\{\"until\":\\[\"\\d+s\"]}"),
            Pattern.compile("DELETE /images/sha256:[0-9a-f]{64}"),
            Pattern.compile("POST /build/prune\\?filters=\\{\"until\":\\[\"\\d+s\"]}"));

    /**
     * A real run changes the host through three kinds of request only: container prune and build-cache
     * prune, each with until, and plain deletes of images by ID. No volume, network, system or image
     * prune, no "all", no force; the volumes are all still there.
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void onlyContainerPruneBuildCachePruneAndImageDeletesByIdReachTheEngine(FakeHost.Store store) {
        FakeHost host = richHost(store);
        PruneRun.Report report = OnFake.prune(host, "24h", false);
        assertTrue(report.ran(), PruneFormat.text(report));
        List<String> changes = host.changes();
        for (String change : changes) {
            assertTrue(ALLOWED_CHANGES.stream().anyMatch(p -> p.matcher(change).matches()), "a change prune must never ask for: " + change);
        }
        for (Pattern allowed : ALLOWED_CHANGES) {
            assertTrue(changes.stream().anyMatch(c -> allowed.matcher(c).matches()), "the run went through every phase: " + changes);
        }
        JsonNode volumes = host.volumes().path("Volumes");
        assertEquals(List.of("data", "certs"), List.of(volumes.get(0).path("Name").asText(), volumes.get(1).path("Name").asText()));
        assertEquals(2, volumes.size());
    }

    // ---------------------------------------------------------------- the dangling rule

    /** Tagged images nothing uses, however old, in a repository of their own or beside a newer tag: kept, never asked to delete. */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void theImagePhaseNeverRemovesATaggedImage(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        List<FakeState.Image> tagged = List.of(
                s.image("ccci/idle:1").created(old),
                s.image("ccci/app:1").created(old.minus(Duration.ofDays(1))),
                s.image("ccci/app:2").created(old),
                s.image("localhost:5000/acc/pushed:1").created(old).digest("localhost:5000/acc/pushed@" + OnFake.digest("pushed")),
                s.image("ccci/two:a", "ccci/two:b").created(old));
        FakeState.Image dangling = untagged(s, store, old);
        host.clearRequests();

        PrunePolicy.Plan plan = OnFake.prune(host, "24h", true).plan().orElseThrow();
        for (FakeState.Image image : tagged) {
            PrunePolicy.Item item = plan.images().stream().filter(i -> i.id().equals(image.id)).findFirst().orElseThrow();
            assertEquals(PrunePolicy.Why.TAGGED, item.why(), item.toString());
        }
        PruneRun.Report report = OnFake.prune(host, "24h", false);
        assertEquals(List.of(dangling.id), report.phases().get(1).removedIds(), PruneFormat.text(report));
        for (FakeState.Image image : tagged) {
            assertTrue(s.imageById(image.id).isPresent(), image.tags() + " is still there");
            assertEquals(image.tags(), host.imageTags().get(image.id), "and keeps every tag");
        }
        assertEquals(List.of("DELETE /images/" + dangling.id), host.changes().stream().filter(c -> c.startsWith("DELETE")).toList());
    }

    // ---------------------------------------------------------------- until

    /**
     * What is younger than --until stays in every phase (a stopped container, an untagged image, a
     * build cache record used recently), what is older goes; the engine's prunes are asked with
     * until. On the containerd store the young image was built long ago and arrived a moment ago.
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void everyPhaseKeepsWhatIsYoungerThanUntil(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        Instant recent = s.now().minus(Duration.ofHours(3));
        FakeState.Image base = s.image("ccci/base:1").created(old);
        FakeState.Container youngContainer = s.container("young-job", base, "exited").created(recent);
        FakeState.Container oldContainer = s.container("old-job", base, "exited").created(old);
        FakeState.Image youngImage = store == FakeHost.Store.CONTAINERD ? s.image().created(old).lastTagTime(recent) : s.image().created(recent);
        FakeState.Image oldImage = untagged(s, store, old);
        FakeState.BuildCache youngCache = s.buildCache("regular", 1000, Optional.of(recent));
        FakeState.BuildCache oldCache = s.buildCache("regular", 1000, Optional.of(old));
        host.clearRequests();

        PruneRun.Report report = OnFake.prune(host, "24h", false);
        assertEquals(List.of(oldContainer.id), report.phases().get(0).removedIds(), PruneFormat.text(report));
        assertEquals(List.of(oldImage.id), report.phases().get(1).removedIds(), PruneFormat.text(report));
        assertEquals(List.of(oldCache.id), report.phases().get(2).removedIds(), PruneFormat.text(report));
        Set<String> left = OnFake.inventory(host);
        assertTrue(left.containsAll(Set.of("container " + youngContainer.id, "image " + youngImage.id, "build-cache " + youngCache.id)), left.toString());
        assertEquals(List.of("POST /containers/prune?filters={\"until\":[\"86400s\"]}", "DELETE /images/" + oldImage.id,
                "POST /build/prune?filters={\"until\":[\"86400s\"]}"), host.changes());
    }

    // ---------------------------------------------------------------- the lock

    /** The prune command with an engine it cannot reach: whatever happens past the lock fails with 11, never touching anything. */
    static CommandResult pruneCommand(Path lockFile, String... more) {
        List<String> args = new ArrayList<>(List.of("--host", "unix:///nonexistent/docker.sock", "--threshold", "1",
                "--lock-file", lockFile.toString()));
        args.addAll(List.of(more));
        return ScriptRun.of("Prune", args.toArray(String[]::new));
    }

    @Test
    void aLockHeldByAnotherProcessStopsPruneBeforeItLooksAtAnything() throws Exception {
        Path lockFile = tmp.resolve("held-elsewhere.lock");
        Process holder = JavaProcess.java(List.of(JavaProcess.HoldLock.class.getName(), lockFile.toString()),
                ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.to(tmp.resolve("holder.err").toFile()));
        try {
            JavaProcess.awaitLine(holder, "held");
            CommandResult run = pruneCommand(lockFile);
            assertEquals(ExitCodes.LOCKED, run.exit(), run.toString());
            String reason = "another prune is running (lock " + lockFile + " held by pid " + holder.pid() + "): nothing removed";
            assertEquals("prune: " + reason + System.lineSeparator(), run.err());
            assertEquals(1, run.out().lines().count(), run.toString());
            assertTrue(run.out().strip().matches("summary outcome=locked exit=14 phases=none reclaimed_bytes=0 elapsed_ms=\\d+ reason="
                    + Pattern.quote("\"" + reason + "\"")), run.toString());
            JsonNode json = pruneCommand(lockFile, "--json").json();
            assertEquals("locked", json.path("outcome").asText());
            assertEquals(ExitCodes.LOCKED, json.path("exitCode").asInt());
            assertFalse(json.path("pruneAllowed").asBoolean());
            assertEquals(reason, json.path("reason").asText());
            assertEquals(ExitCodes.CANNOT_EVALUATE, pruneCommand(lockFile, "--dry-run").exit(), "a dry run takes no lock");
            PruneLock.AlreadyLocked inProcess = assertThrows(PruneLock.AlreadyLocked.class, () -> PruneLock.acquire(lockFile));
            assertEquals(reason, inProcess.getMessage());
        } finally {
            holder.getOutputStream().close(); // HoldLock releases and exits at end of input
            if (!holder.waitFor(20, TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
        }
        assertEquals(0, holder.exitValue(), Files.readString(tmp.resolve("holder.err")));
        PruneLock.acquire(lockFile).close(); // free again once the other process has ended
        assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(lockFile), "the last holder's pid");
        CommandResult free = pruneCommand(lockFile);
        assertEquals(ExitCodes.CANNOT_EVALUATE, free.exit(), "past the lock, on to the (unreachable) engine: " + free);
    }

    /** POSIX record locks belong to the process: a failed second acquire in the same JVM must not let go of the first. */
    @Test
    void aLockHeldInThisJvmStaysHeldAfterASecondAttemptAndIsFreeAfterRelease() throws Exception {
        Path lockFile = tmp.resolve("held-here.lock");
        try (PruneLock held = PruneLock.acquire(lockFile)) {
            PruneLock.AlreadyLocked again = assertThrows(PruneLock.AlreadyLocked.class, () -> PruneLock.acquire(lockFile));
            assertEquals("another prune is running (lock " + lockFile + " held by pid " + ProcessHandle.current().pid()
                    + "): nothing removed", again.getMessage());
            Process other = JavaProcess.java(List.of("Prune", "--host", "unix:///nonexistent/docker.sock", "--threshold", "1",
                    "--lock-file", lockFile.toString()), ProcessBuilder.Redirect.to(tmp.resolve("child.out").toFile()),
                    ProcessBuilder.Redirect.to(tmp.resolve("child.err").toFile()));
            other.getOutputStream().close();
            assertTrue(other.waitFor(60, TimeUnit.SECONDS), "the other prune process ends");
            String err = Files.readString(tmp.resolve("child.err"));
            assertEquals(ExitCodes.LOCKED, other.exitValue(), err);
            assertEquals(List.of("prune: another prune is running (lock " + lockFile + " held by pid " + ProcessHandle.current().pid()
                    + "): nothing removed"), err.lines().toList());
            assertTrue(Files.readString(tmp.resolve("child.out")).startsWith("summary outcome=locked exit=14 "));
        }
        assertTrue(Files.exists(lockFile), "the lock file stays; only the lock on it is gone");
        PruneLock.acquire(lockFile).close();
    }

    // ---------------------------------------------------------------- the gates, again before every phase

    /**
     * A run-app stack that starts after a phase stops the run before the next one: the gates are
     * checked again before every phase (the images and build-cache phases here). What the earlier
     * phases removed is reported; nothing of the later ones is touched.
     */
    @ParameterizedTest
    @EnumSource(value = Phase.class, names = {"IMAGES", "BUILD_CACHE"})
    void aStackThatStartsBetweenPhasesStopsTheRunBeforeTheNextPhase(Phase next) {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        Set<String> danglingBefore = danglingIds(host);
        List<Phase> checked = new ArrayList<>();
        PruneRun.Report report = OnFake.prune(host, OnFake.settings("24h"), false, new PruneRun.Listener() {
            @Override
            public void beforeGateCheck(Phase phase) {
                checked.add(phase);
            }

            @Override
            public void phaseDone(PruneRun.PhaseResult done) {
                if (done.phase().ordinal() == next.ordinal() - 1) {
                    FakeState.Image base = s.topLevelImages().stream().filter(i -> i.tags().contains("ccci/base:1")).findFirst().orElseThrow();
                    s.container(STACK, base, "running");
                }
            }
        });
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.STOPPED, report.outcome(), text);
        assertEquals(ExitCodes.STOPPED_GATES_CLOSED, report.exitCode(), text);
        assertEquals(Optional.of(next), report.stoppedBefore());
        assertEquals(next.ordinal(), report.phases().size(), text);
        assertEquals(1, report.phases().get(0).removedIds().size(), "phase 1 ran and removed the old container\n" + text);
        assertTrue(report.problem().orElseThrow().startsWith("gates closed before " + next.key
                + ": stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net"), report.problem().get());
        assertTrue(text.contains("; completed phases: " + (next == Phase.IMAGES ? "containers" : "containers,images")
                + System.lineSeparator()), text);
        assertTrue(text.contains("summary outcome=stopped exit=13 phases="), text);
        if (next == Phase.IMAGES) {
            assertEquals(danglingBefore, danglingIds(host), "no image touched");
            assertEquals(List.of(Phase.CONTAINERS, Phase.IMAGES), checked);
        }
        assertFalse(host.changes().stream().anyMatch(c -> c.startsWith("POST /build/prune")), host.changes().toString());
    }

    /**
     * The first phase too: a run-app stack that starts after the gates were checked at the start
     * (while prune reads the host and plans) stops the run before the container phase, the gates
     * being checked again right before it; nothing is pruned.
     */
    @Test
    void aStackThatStartsWhilePruneIsPlanningStopsTheRunBeforeTheFirstPhase() {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        Set<String> danglingBefore = danglingIds(host);
        PruneRun.Report report = OnFake.prune(host, OnFake.settings("24h"), false, new PruneRun.Listener() {
            @Override
            public void planned(ccci.GatePolicy.Verdict verdict, PrunePolicy.Plan plan) {
                FakeState.Image base = s.topLevelImages().stream().filter(i -> i.tags().contains("ccci/base:1")).findFirst().orElseThrow();
                s.container(STACK, base, "running");
            }
        });
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.STOPPED, report.outcome(), text);
        assertEquals(ExitCodes.STOPPED_GATES_CLOSED, report.exitCode(), text);
        assertEquals(Optional.of(Phase.CONTAINERS), report.stoppedBefore(), text);
        assertEquals(0, report.phases().size(), text);
        assertTrue(report.problem().orElseThrow().startsWith("gates closed before containers: stack: live run-app stack"),
                report.problem().get());
        assertEquals(List.of(), host.changes(), "nothing asked of the engine but reads");
        assertEquals(danglingBefore, danglingIds(host), "no image touched");
    }

    static Set<String> danglingIds(FakeHost host) {
        Set<String> ids = new TreeSet<>();
        host.imageTags().forEach((id, tags) -> {
            if (tags.isEmpty()) {
                ids.add(id);
            }
        });
        return ids;
    }

    /** A service that starts converging after phase 1 stops the run; an engine that cannot be read then stops it with 11. */
    @Test
    void aConvergingServiceOrAnUnreadableEngineBetweenPhasesStopsTheRun() {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        PruneRun.Report converging = OnFake.prune(host, OnFake.settings("24h"), false, afterPhase1(() ->
                s.service("ccci-web", "ccci/base:1").converging()));
        assertEquals(ExitCodes.STOPPED_GATES_CLOSED, converging.exitCode(), PruneFormat.text(converging));
        assertTrue(converging.problem().orElseThrow().startsWith("gates closed before images: convergence: 1 service converging: ccci-web 0/1"),
                converging.problem().get());

        FakeHost other = richHost(FakeHost.Store.CLASSIC);
        Set<String> images = OnFake.imageIds(other);
        boolean[] gone = {false};
        other.fault(r -> gone[0] && r.startsWith("GET ")
                ? Optional.of(new EngineApi.Unavailable("cannot reach the Docker engine at " + other.host() + ": Connection refused", null))
                : Optional.empty());
        PruneRun.Report unreadable = OnFake.prune(other, OnFake.settings("24h"), false, afterPhase1(() -> gone[0] = true));
        String text = PruneFormat.text(unreadable);
        assertEquals(PruneRun.Outcome.STOPPED, unreadable.outcome(), text);
        assertEquals(ExitCodes.CANNOT_EVALUATE, unreadable.exitCode(), text);
        assertTrue(unreadable.problem().orElseThrow().startsWith("gates closed before images: "), text);
        assertTrue(unreadable.problem().get().contains("; stack: cannot evaluate: cannot reach the Docker engine at "), text);
        assertEquals(images, OnFake.imageIds(other), "no image touched");
    }

    /** The disk gate only starts a run: a disk that the first phase brings below the threshold does not stop it. */
    @Test
    void aDiskBelowTheThresholdAfterAPhaseDoesNotStopTheRun() {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        PruneRun.Report report = OnFake.prune(host, OnFake.settings("24h"), false, afterPhase1(() -> s.disk(10 * OnFake.GB, 0)));
        assertEquals(PruneRun.Outcome.PRUNED, report.outcome(), PruneFormat.text(report));
        assertEquals(3, report.phases().size());
    }

    static PruneRun.Listener afterPhase1(Runnable change) {
        return new PruneRun.Listener() {
            @Override
            public void phaseDone(PruneRun.PhaseResult done) {
                if (done.phase() == Phase.CONTAINERS) {
                    change.run();
                }
            }
        };
    }

    // ---------------------------------------------------------------- since the plan

    /**
     * Images the plan lists that got a user after the plan: the image phase checks their users again
     * and keeps them, saying why, without asking the engine to delete them. A container (the engine
     * would refuse with 409 too) on either store; on the classic store also a service naming an older
     * pull by digest, scaled to 0: no container, so only the re-check saves it (on the containerd
     * store that pull keeps its name@digest record: tagged, never planned).
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImageThatGotAUserSinceThePlanStays(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        boolean classic = store == FakeHost.Store.CLASSIC;
        FakeState.RegistryImage v1 = s.registryImage("localhost:5000/acc/app:1", old, Map.of("l-app-1", 1_000_000L));
        FakeState.RegistryImage v2 = s.registryImage("localhost:5000/acc/app:2", old.plus(Duration.ofDays(1)), Map.of("l-app-2", 1_000_000L));
        pullByDigest(host, "localhost:5000/acc/app", v1.digest());
        pullByDigest(host, "localhost:5000/acc/app", v2.digest());
        s.advance(Duration.ofDays(2));
        FakeState.Image forJob = untagged(s, store, old);
        FakeState.Image other = untagged(s, store, old);
        host.clearRequests();
        PruneRun.Report report = OnFake.prune(host, OnFake.settings("24h"), false, afterPhase1(() -> {
            s.container("late-job", forJob, "created");
            s.service("rollback-target", "localhost:5000/acc/app@" + v1.digest()).replicas(0);
        }));
        String text = PruneFormat.text(report);
        assertEquals(List.of(other.id), report.phases().get(1).removedIds(), text);
        Map<String, String> kept = new java.util.TreeMap<>();
        report.phases().get(1).keptAtRunTime().forEach(i -> kept.put(i.id(), i.reason()));
        Map<String, String> expected = new java.util.TreeMap<>(Map.of(forJob.id, "a user appeared since the plan: container late-job (created)"));
        if (classic) {
            expected.put(v1.imageId(), "a user appeared since the plan: service rollback-target (0 desired, 0 running)");
        }
        assertEquals(expected, kept, text);
        for (String id : expected.keySet()) {
            assertTrue(s.imageById(id).isPresent());
            assertFalse(host.changes().contains("DELETE /images/" + id), "never asked to delete it: " + host.changes());
            assertTrue(text.contains("kept    image       " + OnFake.shortId(id)), text);
        }
    }

    static void pullByDigest(FakeHost host, String repository, String digest) {
        host.pull(repository, digest, Optional.empty(), Duration.ofSeconds(10), m -> { });
    }

    /**
     * An image the plan lists as untagged that got a tag before the image phase (a pull or docker tag
     * in between): deleting it by ID would remove a tagged image, so the image phase looks at its
     * tags again right before and keeps it.
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImageTaggedSinceThePlanStays(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        FakeState.Image retagged = untagged(s, store, old);
        FakeState.Image other = untagged(s, store, old);
        host.clearRequests();
        PruneRun.Report report = OnFake.prune(host, OnFake.settings("24h"), false, afterPhase1(() ->
                host.tagImage(retagged.id, "ccci/app", "rollback")));
        assertEquals(List.of(other.id), report.phases().get(1).removedIds(), PruneFormat.text(report));
        assertEquals(List.of("ccci/app:rollback"), host.imageTags().get(retagged.id), "still there, with its tag");
        PrunePolicy.Item kept = report.phases().get(1).keptAtRunTime().get(0);
        assertEquals(PrunePolicy.Why.TAGGED, kept.why());
        assertEquals("tagged since the plan: ccci/app:rollback", kept.reason());
    }

    // ---------------------------------------------------------------- the engine's answers

    /** Another tool's prune running in the engine: 409 on our first prune request, one line, exit 15, nothing of ours ran. */
    @Test
    void anotherPruneInTheEngineIs409AndExit15() {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        Set<String> before = OnFake.inventory(host);
        host.state().pruneRunning(true);
        PruneRun.Report report = OnFake.prune(host, "24h", false);
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.FAILED, report.outcome(), text);
        assertEquals(ExitCodes.ENGINE_BUSY, report.exitCode(), text);
        assertEquals(List.of(), report.phases());
        assertEquals(Optional.of(Phase.CONTAINERS), report.stoppedBefore());
        assertEquals("the engine is already running a prune (HTTP 409: a prune operation is already running; another tool?): "
                + "containers not pruned", report.problem().orElseThrow());
        assertEquals(before, OnFake.inventory(host), "nothing removed");
        assertTrue(text.contains("summary outcome=failed exit=15 phases=none "), text);
    }

    /**
     * The engine failing during a phase: an HTTP error on the build-cache prune, or the engine gone
     * during the image phase: exit 16, the completed phases reported, one line of problem.
     */
    @Test
    void theEngineFailingDuringAPhaseIsExit16WithTheCompletedPhases() {
        FakeHost host = richHost(FakeHost.Store.CLASSIC);
        host.fault(r -> r.startsWith("POST /build/prune")
                ? Optional.of(new EngineApi.Refused(500, "the Docker engine at fake answered HTTP 500 to POST /build/prune: boom", "boom"))
                : Optional.empty());
        PruneRun.Report refused = OnFake.prune(host, "24h", false);
        assertEquals(ExitCodes.ENGINE_FAILED, refused.exitCode(), PruneFormat.text(refused));
        assertEquals(List.of(Phase.CONTAINERS, Phase.IMAGES), refused.phases().stream().map(PruneRun.PhaseResult::phase).toList());
        assertEquals(Optional.of(Phase.BUILD_CACHE), refused.stoppedBefore());
        assertEquals("the Docker engine at fake answered HTTP 500 to POST /build/prune: boom", refused.problem().orElseThrow());

        FakeHost gone = richHost(FakeHost.Store.CLASSIC);
        Set<String> images = OnFake.imageIds(gone);
        boolean[] down = {false};
        gone.fault(r -> down[0] || r.startsWith("DELETE /images/") ? down(gone, down) : Optional.empty());
        PruneRun.Report report = OnFake.prune(gone, "24h", false);
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.FAILED, report.outcome(), text);
        assertEquals(ExitCodes.ENGINE_FAILED, report.exitCode(), text);
        assertEquals(List.of(Phase.CONTAINERS), report.phases().stream().map(PruneRun.PhaseResult::phase).toList());
        assertEquals(Optional.of(Phase.IMAGES), report.stoppedBefore());
        String problem = report.problem().orElseThrow();
        assertTrue(problem.startsWith("during images: cannot reach the Docker engine at " + gone.host()), problem);
        assertEquals(1, problem.lines().count(), problem);
        assertTrue(text.contains("stopped: during images: "), text);
        assertTrue(text.contains("; completed phases: containers" + System.lineSeparator()), text);
        assertTrue(text.contains("summary outcome=failed exit=16 phases=containers "), text);
        assertEquals(Optional.empty(), report.imagesAfter(), "the engine was gone when the report was made");
        assertEquals(images, OnFake.imageIds(gone), "the image phase removed nothing");
    }

    static Optional<RuntimeException> down(FakeHost host, boolean[] down) {
        down[0] = true;
        return Optional.of(new EngineApi.Unavailable("cannot reach the Docker engine at " + host.host() + ": Connection refused", null));
    }
}
