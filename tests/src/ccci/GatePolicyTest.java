package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The gate policy as pure functions: no Docker here, every Docker claim is tested on the real engine. */
class GatePolicyTest {
    static final GatePolicy.Settings DEFAULTS = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null);
    static final long GB = 1L << 30;

    static HostSnapshot manager(List<HostSnapshot.Service> services, List<HostSnapshot.Container> containers) {
        return Hosts.manager(services, containers);
    }

    static HostSnapshot.Service service(String name, long running, long desired) {
        return Hosts.service(name, Map.of(), "replicated", running, desired, Optional.empty());
    }

    static Reading<List<Disk>> disk(long used, long available) {
        return Reading.ok(List.of(new Disk(Path.of("/var/lib/docker"), used, available)));
    }

    @ParameterizedTest
    @CsvSource({
        "79, 21, 79", "80, 20, 80", "1, 0, 100", "0, 100, 0",
        // df rounds up: 79.01% shows as 80%
        "7901, 2099, 80"})
    void usedPercentIsRoundedUpLikeDf(long used, long available, int expected) {
        assertEquals(expected, new Disk(Path.of("/"), used, available).usedPercent());
    }

    @Test
    void diskGateHoldsAtTheThresholdAndBlocksBelowIt() {
        assertEquals(GateResult.State.HOLDS, GatePolicy.diskGate(new Threshold(80), disk(80 * GB, 20 * GB)).state());
        GateResult below = GatePolicy.diskGate(new Threshold(80), disk(79 * GB, 21 * GB));
        assertEquals(GateResult.State.BLOCKS, below.state());
        assertEquals("79% of /var/lib/docker < 80%", below.detail());
    }

    @Test
    void allGatesHoldingAllowsPruning() {
        Verdict verdict = GatePolicy.evaluate(DEFAULTS,
                Reading.ok(manager(List.of(service("web", 2, 2)), List.of())), disk(90 * GB, 10 * GB));
        assertTrue(verdict.pruneAllowed());
        assertEquals(ExitCodes.OK, verdict.exitCode());
    }

    @Test
    void aStackNamedServiceBlocks() {
        HostSnapshot host = manager(List.of(service("abcd-1a2b3c_ci_commoninternet_net_app", 1, 1)), List.of());
        GateResult gate = GatePolicy.stackGate(DEFAULTS, Reading.ok(host));
        assertEquals(GateResult.State.BLOCKS, gate.state());
        assertEquals(List.of("abcd-1a2b3c_ci_commoninternet_net"), gate.figures().get("liveStacks"));
    }

    @Test
    void aContainerWithOnlyTheStackLabelBlocks() {
        HostSnapshot host = manager(List.of(), List.of(Hosts.container("innocent-name",
                Map.of(HostSnapshot.STACK_LABEL, "zz9-abcdef_ci_commoninternet_net"))));
        GateResult gate = GatePolicy.stackGate(DEFAULTS, Reading.ok(host));
        assertEquals(GateResult.State.BLOCKS, gate.state());
        assertEquals(List.of("zz9-abcdef_ci_commoninternet_net"), gate.figures().get("liveStacks"));
    }

    @ParameterizedTest
    @CsvSource({
        "abcde-1a2b3c_ci_commoninternet_net_app", // five-char prefix
        "abcd-1a2b3g_ci_commoninternet_net_app",  // not hex
        "abcd-1a2b3c_ci_commoninternet_network",  // no separator after _net
        "x_abcd-1a2b3c_ci_commoninternet_net",    // not at the start
        "registry"})
    void namesOutsideThePatternDoNotBlock(String name) {
        HostSnapshot host = manager(List.of(service(name, 1, 1)), List.of(Hosts.container(name, Map.of())));
        assertEquals(GateResult.State.HOLDS, GatePolicy.stackGate(DEFAULTS, Reading.ok(host)).state());
    }

    @Test
    void aStackNameWithNothingAfterNetMatches() {
        HostSnapshot host = manager(List.of(service("ab12-00ff00_ci_commoninternet_net", 1, 1)), List.of());
        assertEquals(GateResult.State.BLOCKS, GatePolicy.stackGate(DEFAULTS, Reading.ok(host)).state());
    }

    @ParameterizedTest
    @CsvSource({
        "replicated, 0, 1, , true",
        "replicated, 1, 1, , false",
        "replicated, 3, 2, , true",           // scaling down: still converging
        "replicated, 2, 2, updating, true",
        "replicated, 2, 2, rollback_started, true",
        "replicated, 2, 2, paused, true",
        "replicated, 2, 2, completed, false",
        "replicated, 2, 2, rollback_completed, false",
        "global, 1, 2, , true",
        "global, 2, 2, , false",
        "replicated-job, 1, 1, , true",       // a job still running
        "replicated-job, 0, 1, , false",      // a job that finished
    })
    void convergence(String mode, long running, long desired, String update, boolean converging) {
        HostSnapshot.Service s = Hosts.service("svc", Map.of(), mode, running, desired, Optional.ofNullable(update));
        assertEquals(converging, GatePolicy.isConverging(s));
        GateResult gate = GatePolicy.convergenceGate(Reading.ok(manager(List.of(s), List.of())));
        assertEquals(converging ? GateResult.State.BLOCKS : GateResult.State.HOLDS, gate.state());
    }

    @Test
    void aNonSwarmEngineHasNothingToConvergeAndSaysWhy() {
        HostSnapshot host = Hosts.of(EngineInfo.SwarmRole.NOT_IN_SWARM, List.of(), List.of());
        GateResult gate = GatePolicy.convergenceGate(Reading.ok(host));
        assertEquals(GateResult.State.HOLDS, gate.state());
        assertTrue(gate.detail().contains("not a swarm node"), gate.detail());
    }

    @Test
    void anEngineThatCannotBeReadBlocksEveryGateItFeeds() {
        Reading<HostSnapshot> failed = Reading.failed("cannot reach the Docker engine at unix:///x: refused");
        Reading<List<Path>> target = GatePolicy.diskTargets(DEFAULTS, failed, p -> true);
        assertTrue(target instanceof Reading.Failed);
        Verdict verdict = GatePolicy.evaluate(DEFAULTS, failed, GateCheck.measure(target, Disks.REAL));
        assertFalse(verdict.pruneAllowed());
        assertEquals(ExitCodes.CANNOT_EVALUATE, verdict.exitCode());
        assertTrue(verdict.gates().stream().noneMatch(GateResult::holds), "fail closed: no gate may hold");
        assertEquals(List.of("cannot reach the Docker engine at unix:///x: refused"), verdict.problems());
    }

    @Test
    void cannotEvaluateOutranksBlocks() {
        Verdict verdict = GatePolicy.evaluate(DEFAULTS,
                Reading.ok(manager(List.of(service("stuck", 0, 1)), List.of())), Reading.failed("statfs: EIO"));
        assertEquals(ExitCodes.CANNOT_EVALUATE, verdict.exitCode());
    }

    static GatePolicy.Settings settings(List<Path> paths, Optional<Path> containerdRoot) {
        return new GatePolicy.Settings(80, DEFAULTS.stackPattern(), paths, containerdRoot, Optional.empty());
    }

    @Test
    void diskTargetsPreferThePathsThenTheDataRootThenSlash() {
        Reading<HostSnapshot> facts = Reading.ok(manager(List.of(), List.of()));
        List<Path> two = List.of(Path.of("/mnt"), Path.of("/srv"));
        assertEquals(Reading.ok(two), GatePolicy.diskTargets(settings(two, Optional.empty()), facts, p -> false));
        assertEquals(Reading.ok(List.of(Path.of("/var/lib/docker"))), GatePolicy.diskTargets(DEFAULTS, facts, p -> true));
        assertEquals(Reading.ok(List.of(Path.of("/"))), GatePolicy.diskTargets(DEFAULTS, facts, p -> false));
    }

    @Test
    void onTheContainerdStoreContainerdsRootIsMeasuredToo() {
        Reading<HostSnapshot> containerd = Reading.ok(Hosts.of(EngineInfo.SwarmRole.MANAGER, EngineInfo.ImageStore.CONTAINERD, List.of(), List.of()));
        assertEquals(Reading.ok(List.of(Path.of("/var/lib/docker"), Path.of("/var/lib/containerd"))),
                GatePolicy.diskTargets(DEFAULTS, containerd, p -> true), "its default root, when it exists here");
        assertEquals(Reading.ok(List.of(Path.of("/var/lib/docker"))),
                GatePolicy.diskTargets(DEFAULTS, containerd, p -> !p.equals(Path.of("/var/lib/containerd"))), "not when it does not");
        assertEquals(Reading.ok(List.of(Path.of("/var/lib/docker"), Path.of("/data/containerd"))),
                GatePolicy.diskTargets(settings(List.of(), Optional.of(Path.of("/data/containerd"))), containerd, p -> true));
        assertEquals(Reading.ok(List.of(Path.of("/var/lib/docker"))),
                GatePolicy.diskTargets(DEFAULTS, Reading.ok(manager(List.of(), List.of())), p -> true), "not on the classic store");
    }

    @Test
    void theFullestFileSystemDecidesAndEachIsNamed() {
        Reading<List<Disk>> two = Reading.ok(List.of(new Disk(Path.of("/var/lib/docker"), 40 * GB, 60 * GB),
                new Disk(Path.of("/var/lib/containerd"), 9 * GB, 1 * GB)));
        GateResult gate = GatePolicy.diskGate(new Threshold(80), two);
        assertEquals(GateResult.State.HOLDS, gate.state());
        assertEquals("90% of /var/lib/containerd \u2265 80% (the fullest; also /var/lib/docker 40%)", gate.detail());
        assertEquals(90, gate.figures().get("usedPercent"));
        assertEquals("/var/lib/containerd", gate.figures().get("path"));
        assertEquals(2, ((List<?>) gate.figures().get("paths")).size());
        GateResult blocks = GatePolicy.diskGate(new Threshold(95), two);
        assertEquals(GateResult.State.BLOCKS, blocks.state());
        assertEquals(Optional.of(Path.of("/var/lib/containerd")),
                GatePolicy.evaluate(DEFAULTS, Reading.ok(manager(List.of(), List.of())), two).disk().map(Disk::path));
    }

    static HostSnapshot worker(List<HostSnapshot.Container> containers) {
        return Hosts.worker(containers);
    }

    @Test
    void aWorkerAloneCannotSeeTheClustersGatesAndFailsClosed() {
        Verdict verdict = GatePolicy.evaluate(DEFAULTS, Reading.ok(worker(List.of())), disk(90 * GB, 10 * GB));
        assertEquals(ExitCodes.CANNOT_EVALUATE, verdict.exitCode());
        for (String gate : List.of("stack", "convergence")) {
            GateResult g = verdict.gates().stream().filter(r -> r.name().equals(gate)).findFirst().orElseThrow();
            assertEquals(GateResult.State.UNKNOWN, g.state(), g.toString());
            assertTrue(g.detail().contains("run from a manager, or with --fleet"), g.detail());
        }
    }

    @Test
    void aWorkerWithAStackContainerOfItsOwnKnowsTheStackGateBlocks() {
        GateResult gate = GatePolicy.stackGate(DEFAULTS, Reading.ok(worker(List.of(
                Hosts.container("abcd-1a2b3c_ci_commoninternet_net_app.1.xyz", Map.of())))));
        assertEquals(GateResult.State.BLOCKS, gate.state());
    }

    @Test
    void aNodeJobTakesTheManagersVerdictAndStillChecksItsOwnContainers() {
        GatePolicy.Settings holds = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, List.of(), null,
                "stack=holds,convergence=holds");
        Verdict verdict = GatePolicy.evaluate(holds, Reading.ok(worker(List.of())), disk(90 * GB, 10 * GB));
        assertTrue(verdict.pruneAllowed(), verdict.toString());
        assertEquals("holds", verdict.gates().get(2).figures().get("clusterVerdict"));

        Verdict local = GatePolicy.evaluate(holds, Reading.ok(worker(List.of(
                Hosts.container("zz9-abcdef_ci_commoninternet_net_db.1.x", Map.of())))), disk(90 * GB, 10 * GB));
        assertEquals(GateResult.State.BLOCKS, local.gates().get(1).state(), "its own containers still count");

        GatePolicy.Settings blocks = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, List.of(), null,
                "stack=blocks,convergence=unknown");
        Verdict closed = GatePolicy.evaluate(blocks, Reading.ok(manager(List.of(), List.of())), disk(90 * GB, 10 * GB));
        assertEquals(GateResult.State.BLOCKS, closed.gates().get(1).state());
        assertEquals(GateResult.State.UNKNOWN, closed.gates().get(2).state());
        assertEquals(ExitCodes.CANNOT_EVALUATE, closed.exitCode());
    }

    @Test
    void aNodeJobOnTheManagerIgnoresTheServicesTheManagerAlreadyJudged() {
        GatePolicy.Settings holds = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, List.of(), null,
                "stack=holds,convergence=holds");
        HostSnapshot host = manager(List.of(service("abcd-1a2b3c_ci_commoninternet_net_app", 1, 1), service("stuck", 0, 1)), List.of());
        assertTrue(GatePolicy.evaluate(holds, Reading.ok(host), disk(90 * GB, 10 * GB)).pruneAllowed(),
                "the fleet decided on the services before its job started; the job follows that decision");
    }

    @Test
    void theFleetsOwnJobIsNoWorkloadForConvergence() {
        HostSnapshot.Service job = Hosts.service("ccci-fleet-x", Map.of(GatePolicy.FLEET_JOB_LABEL, "1"), "global-job", 3, 3, Optional.empty());
        GateResult gate = GatePolicy.convergenceGate(Reading.ok(manager(List.of(job, service("web", 1, 1)), List.of())));
        assertEquals(GateResult.State.HOLDS, gate.state());
        assertEquals("its 1 service converged", gate.detail());
        HostSnapshot.Service other = Hosts.service("backup", Map.of(), "global-job", 3, 3, Optional.empty());
        assertEquals(GateResult.State.BLOCKS, GatePolicy.convergenceGate(Reading.ok(manager(List.of(other), List.of()))).state());
    }

    @Test
    void theClusterGatesLookAtServicesOnlyOnTheManager() {
        HostSnapshot host = manager(List.of(service("web", 1, 1)), List.of(Hosts.container("abcd-1a2b3c_ci_commoninternet_net_x", Map.of())));
        List<GateResult> cluster = GatePolicy.clusterGates(DEFAULTS, Reading.ok(host));
        assertEquals(GateResult.State.HOLDS, cluster.get(0).state(), "the manager's containers are its own node job's business");
        assertEquals(GateResult.State.HOLDS, cluster.get(1).state());
        List<GateResult> unknown = GatePolicy.clusterGates(DEFAULTS, Reading.failed("engine gone"));
        assertEquals(List.of(GateResult.State.UNKNOWN, GateResult.State.UNKNOWN), unknown.stream().map(GateResult::state).toList());
    }

    /** Issue 21 item 3: the default stack pattern is one organisation's; on anyone else's CI gates says so, naming the stacks. */
    @Test
    void stacksThePatternDoesNotMatchAreNamedInTheStackGate() {
        HostSnapshot host = manager(List.of(Hosts.service("web_app", Map.of(HostSnapshot.STACK_LABEL, "web"), "replicated", 1, 1,
                Optional.empty())), List.of(Hosts.container("ci-42_db.1.x", Map.of(HostSnapshot.STACK_LABEL, "ci-42"))));
        GateResult gate = GatePolicy.stackGate(DEFAULTS, Reading.ok(host));
        assertEquals(GateResult.State.HOLDS, gate.state());
        assertEquals("no live run-app stack (1 service, 1 running container checked); note: --stack-pattern matches none of the "
                + "stacks here (ci-42, web): if they are CI runs, set --stack-pattern", gate.detail());
        assertEquals(List.of("ci-42", "web"), gate.figures().get("stacksNotMatched"));
    }

    /** Issue 21 item 7: one cause reads once, and a healthy host reads as one. */
    @Test
    void anUnreachableEngineIsSaidOnceAndABelowThresholdDiskIsNoRefusal() {
        Reading<HostSnapshot> failed = Reading.failed("cannot reach the Docker engine at unix:///x: refused");
        Verdict verdict = GatePolicy.evaluate(DEFAULTS, failed, Reading.failed("cannot reach the Docker engine at unix:///x: refused"));
        assertEquals("disk, stack, convergence: cannot evaluate: cannot reach the Docker engine at unix:///x: refused", verdict.reason());
        Verdict healthy = GatePolicy.evaluate(DEFAULTS, Reading.ok(manager(List.of(), List.of())), disk(10 * GB, 90 * GB));
        String text = GateCheck.text(healthy);
        assertTrue(text.contains("disk         below   10% of /var/lib/docker < 80%"), text);
        assertTrue(text.contains("verdict: no prune needed (the disk is below the threshold)"), text);
        assertTrue(text.contains("no live run-app stack (0 services, 0 running containers checked)"), text);
        assertTrue(text.contains("no services to converge"), text);
    }
}
