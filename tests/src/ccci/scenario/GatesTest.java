package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.GateCheck;
import ccci.GatePolicy;
import ccci.HostSnapshot;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The gates on the fake host, read through the engine seam as the commands read them: the disk
 * gate over and under its threshold on the data root (and containerd's root on that store), a
 * service or a running container of a run-app stack, a converging service, an engine outside a
 * swarm or out of reach; engine-supplied text escaped; a backtracking --stack-pattern fails closed.
 */
class GatesTest {
    static final String STACK_SERVICE = "ab12-0a0b0c_ci_commoninternet_net_web";
    static final String ESC = "\u001b";
    static final String FORGED = "verdict: prune allowed (all gates hold)";
    /** Matches the default stack pattern (its "_" after the net), then clears the screen and forges a line. */
    static final String HOSTILE = "ab12-0a0b0c_ci_commoninternet_net_" + ESC + "[2J\r\n" + FORGED + "\u009b31m\u007f";

    /** A manager whose data root is 90% full, running nothing. */
    static FakeHost full() {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        host.state().disk(10 * OnFake.GB, 9 * OnFake.GB);
        return host;
    }

    static GatePolicy.Verdict gates(FakeHost host, String threshold) {
        return gates(host, GatePolicy.Settings.parse(threshold, GatePolicy.Settings.DEFAULT_STACK_PATTERN, null));
    }

    static GatePolicy.Verdict gates(FakeHost host, GatePolicy.Settings settings) {
        return GateCheck.check(host, settings, Optional.empty(), host).verdict();
    }

    static JsonNode gate(GatePolicy.Verdict verdict, String name) {
        for (JsonNode gate : GateCheck.json(verdict, "fake").path("gates")) {
            if (gate.path("name").asText().equals(name)) {
                return gate;
            }
        }
        throw new AssertionError("no gate " + name);
    }

    @Test
    void allGatesHoldOnAFullDiskWithNothingRunning() {
        GatePolicy.Verdict verdict = gates(full(), "80");
        assertTrue(verdict.pruneAllowed(), GateCheck.text(verdict));
        assertEquals(ExitCodes.OK, verdict.exitCode());
        assertEquals(List.of(), verdict.problems());
    }

    @Test
    void theDiskGateMeasuresTheDataRootOverAndUnderItsThreshold() {
        FakeHost host = full();
        JsonNode over = gate(gates(host, "80"), "disk");
        assertTrue(over.path("holds").asBoolean(), over.toString());
        assertEquals(90, over.path("usedPercent").asInt(), over.toString());
        assertEquals(80, over.path("threshold").asInt());
        assertEquals("/var/lib/docker", over.path("path").asText());
        assertEquals(1, over.path("paths").size());
        assertTrue(gate(gates(host, "90"), "disk").path("holds").asBoolean(), "at the threshold it holds");
        GatePolicy.Verdict under = gates(host, "91");
        assertEquals(ExitCodes.GATE_BLOCKS, under.exitCode());
        assertEquals("blocks", gate(under, "disk").path("state").asText());
    }

    /** On the containerd store containerd's root too: the fuller file system decides, and each is named. */
    @Test
    void onTheContainerdStoreTheFullerFileSystemOfContainerdsRootDecides() {
        FakeHost host = new FakeHost(FakeHost.Store.CONTAINERD);
        Path containerd = GatePolicy.Settings.DEFAULT_CONTAINERD_ROOT;
        host.state().disk(10 * OnFake.GB, 5 * OnFake.GB).otherDisk(containerd, 9 * OnFake.GB, 1 * OnFake.GB);
        GatePolicy.Verdict verdict = gates(host, "80");
        JsonNode disk = gate(verdict, "disk");
        assertTrue(disk.path("holds").asBoolean(), disk.toString());
        assertEquals(containerd.toString(), disk.path("path").asText());
        assertEquals(90, disk.path("usedPercent").asInt());
        assertEquals(2, disk.path("paths").size(), disk.toString());
        assertEquals("/var/lib/docker", disk.path("paths").get(0).path("path").asText());
        assertEquals(50, disk.path("paths").get(0).path("usedPercent").asInt());
        assertEquals(String.format("%-12s %-7s ", "disk", "holds") + "90% of " + containerd + " \u2265 80% (the fullest; also /var/lib/docker 50%)",
                GateCheck.text(verdict).lines().findFirst().orElseThrow());
        GatePolicy.Verdict dataRootOnly = gates(host, GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN,
                List.of(), "/tmp", null));
        assertFalse(gate(dataRootOnly, "disk").path("holds").asBoolean(), "a containerd root the host does not have is not measured");
    }

    @Test
    void aServiceNamedLikeARunAppStackBlocksUntilRemoved() {
        FakeHost host = full();
        host.state().image("ccci-busybox:gates");
        FakeState.Service web = host.state().service(STACK_SERVICE, "ccci-busybox:gates");
        GatePolicy.Verdict verdict = gates(host, "80");
        assertEquals(ExitCodes.GATE_BLOCKS, verdict.exitCode(), GateCheck.text(verdict));
        assertTrue(verdict.reason().startsWith("stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net"), verdict.reason());
        assertTrue(GateCheck.text(verdict).lines().anyMatch(l -> l.matches("summary prune_allowed=false exit=10 disk=holds stack=blocks "
                + "convergence=holds disk_used=91 reason=\"stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net .*\"")),
                GateCheck.text(verdict));
        JsonNode stack = gate(verdict, "stack");
        assertFalse(stack.path("holds").asBoolean());
        assertEquals("ab12-0a0b0c_ci_commoninternet_net", stack.path("liveStacks").get(0).asText());
        host.removeService(web.id);
        assertTrue(gate(gates(host, "80"), "stack").path("holds").asBoolean());
    }

    @Test
    void aRunningContainerWithOnlyTheStackLabelBlocksAndAStoppedOneDoesNot() {
        FakeHost host = full();
        FakeState.Image busybox = host.state().image("ccci-busybox:gates");
        FakeState.Container labelled = host.state().container("ccci-labelled", busybox, "running")
                .label(HostSnapshot.STACK_LABEL, "zz9-abcdef_ci_commoninternet_net");
        JsonNode stack = gate(gates(host, "80"), "stack");
        assertFalse(stack.path("holds").asBoolean(), stack.toString());
        assertEquals("zz9-abcdef_ci_commoninternet_net", stack.path("liveStacks").get(0).asText());
        labelled.state("exited");
        assertTrue(gate(gates(host, "80"), "stack").path("holds").asBoolean(), "a stopped container is not a live stack");
    }

    @Test
    void aServiceShortOfItsTasksIsConvergingAndOneThatReachesThemIsNot() {
        FakeHost host = full();
        host.state().image("ccci-busybox:gates");
        host.state().service("ccci-stuck", "ccci-busybox:gates").converging();
        GatePolicy.Verdict verdict = gates(host, "80");
        assertEquals(ExitCodes.GATE_BLOCKS, verdict.exitCode());
        JsonNode converging = gate(verdict, "convergence").path("converging").get(0);
        assertEquals("ccci-stuck", converging.path("service").asText());
        assertEquals(0, converging.path("running").asInt());
        assertEquals(1, converging.path("desired").asInt());

        FakeHost other = full();
        other.state().image("ccci-busybox:gates");
        other.state().service("ccci-web", "ccci-busybox:gates").replicas(2);
        assertTrue(gate(gates(other, "80"), "convergence").path("holds").asBoolean());
    }

    @Test
    void anEngineOutsideASwarmHasNoServicesToConvergeAndSaysWhy() {
        FakeHost host = full();
        host.state().swarm(FakeState.Swarm.NONE);
        JsonNode convergence = gate(gates(host, "80"), "convergence");
        assertTrue(convergence.path("holds").asBoolean());
        assertEquals("not a swarm node: no services to converge", convergence.path("detail").asText());
        assertFalse(host.requests().stream().anyMatch(r -> r.startsWith("GET /services")), "no services asked of a non-manager");
    }

    @Test
    void anUnreachableEngineFailsClosed() {
        FakeHost host = full();
        host.unreachable();
        GatePolicy.Verdict verdict = gates(host, "80");
        assertEquals(ExitCodes.CANNOT_EVALUATE, verdict.exitCode());
        String summary = GateCheck.summary(verdict);
        assertTrue(summary.startsWith("summary prune_allowed=false exit=11 disk=unknown stack=unknown convergence=unknown"), summary);
        assertTrue(summary.contains(" reason=\"disk, stack, convergence: cannot evaluate: cannot reach the Docker engine at unix:///fake/docker.sock"), summary);
        assertEquals(List.of("cannot reach the Docker engine at unix:///fake/docker.sock: Connection refused"), verdict.problems());
    }

    // ---------------------------------------------------------------- engine-supplied text

    /** A stack label holding a clear-screen escape and a forged verdict line, on a container and on a service. */
    @Test
    void hostileLabelsAreEscapedOnTheirOwnLineInGatesAndPrune() {
        FakeHost host = full();
        FakeState s = host.state();
        FakeState.Image busybox = s.image("ccci-busybox:inject");
        s.container("ccci-injected", busybox, "running").label(HostSnapshot.STACK_LABEL, HOSTILE);
        s.service("ccci-injected-svc", "ccci-busybox:inject").label(HostSnapshot.STACK_LABEL, HOSTILE + "-svc").converging();
        GatePolicy.Verdict verdict = gates(host, "1");
        String text = GateCheck.text(verdict);
        assertClean(text);
        String stack = text.lines().filter(l -> l.startsWith("stack ")).findFirst().orElseThrow();
        assertTrue(stack.contains("ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J\\r\\n" + FORGED + "\\x9b31m\\x7f"), stack);
        for (boolean dryRun : List.of(false, true)) {
            PruneRun.Report report = OnFake.prune(host, PruneRun.Settings.of(GatePolicy.Settings.parse("1",
                    GatePolicy.Settings.DEFAULT_STACK_PATTERN, null), Until.parse("1s")), dryRun, new PruneRun.Listener() {});
            String out = PruneFormat.text(report);
            assertClean(out);
            assertTrue(out.contains(PruneFormat.NOOP_LINE + ": stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J"), out);
        }
    }

    static void assertClean(String out) {
        assertFalse(out.contains(ESC), "an ESC byte reached the output:\n" + out);
        assertFalse(out.contains("\u009b") || out.contains("\r") || out.contains("\u007f"), "a control character reached the output:\n" + out);
        assertTrue(out.lines().noneMatch(l -> l.startsWith(FORGED)), "a forged line:\n" + out);
    }

    /** A --stack-pattern that backtracks on a long label fails closed in bounded time, in gates and in prune. */
    @Test
    void aBacktrackingStackPatternFailsClosedInsteadOfHanging() {
        FakeHost host = full();
        FakeState s = host.state();
        s.container("ccci-long-label", s.image("ccci-busybox:hostile"), "running").label(HostSnapshot.STACK_LABEL, "a".repeat(5000) + "b");
        GatePolicy.Settings slow = GatePolicy.Settings.parse("1", "(.*a){20}$", null);
        GatePolicy.Verdict verdict = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> gates(host, slow));
        assertEquals(ExitCodes.CANNOT_EVALUATE, verdict.exitCode());
        String stack = GateCheck.text(verdict).lines().filter(l -> l.startsWith("stack ")).findFirst().orElseThrow();
        assertTrue(stack.matches("stack +unknown +cannot evaluate: --stack-pattern took more than \\d+ steps on container ccci-long-label .*"),
                stack);
        PruneRun.Report prune = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> OnFake.prune(host,
                PruneRun.Settings.of(slow, Until.parse("1s")), false, new PruneRun.Listener() {}));
        assertEquals(ExitCodes.CANNOT_EVALUATE, prune.exitCode());
        assertTrue(PruneFormat.text(prune).startsWith(PruneFormat.NOOP_LINE), PruneFormat.text(prune));
    }
}
