package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.ClusterVerdict;
import ccci.GatePolicy.GateResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fleet mode's pure parts: the node job's verdict option, the job's spec, reading a node's result, the table. */
class FleetTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Fleet.Node MANAGER = new Fleet.Node("m1aaaaaaaaaaaaaaaaaaaaaaa", "ci-1", "manager", "ready", "active");
    static final Fleet.Node WORKER = new Fleet.Node("w1bbbbbbbbbbbbbbbbbbbbbbb", "ci-2", "worker", "ready", "active");
    static final Fleet.Node DRAINED = new Fleet.Node("w2ccccccccccccccccccccccc", "ci-3", "worker", "ready", "drain");

    @Test
    void theClusterVerdictParsesBothGatesInAnyOrder() {
        ClusterVerdict v = ClusterVerdict.parse("convergence=blocks, stack=holds");
        assertEquals(GateResult.State.HOLDS, v.stack());
        assertEquals(GateResult.State.BLOCKS, v.convergence());
        assertEquals("stack=holds,convergence=blocks", v.toString());
        assertEquals(v, ClusterVerdict.parse(v.toString()), "what a fleet run writes, its node job reads");
        assertEquals(GateResult.State.UNKNOWN, ClusterVerdict.parse("stack=unknown,convergence=holds").stack());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "holds", "stack=holds", "stack=holds,convergence=holds,disk=holds", "stack=yes,convergence=holds",
        "stack=holds,stack=holds", "stack=holds,convergence=", "stack=skipped,convergence=holds", "stack=holds;convergence=holds"})
    void anythingElseIsBadInputQuotingIt(String text) {
        Cli.BadInput e = assertThrows(Cli.BadInput.class, () -> ClusterVerdict.parse(text));
        assertEquals(ExitCodes.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith("--cluster-verdict '" + text + "'"), e.getMessage());
    }

    @Test
    void aSkippedClusterGateIsHandedOnAsUnknownNeverAsHolds() {
        GateResult skipped = new GateResult("stack", GateResult.State.SKIPPED, "", Map.of());
        GateResult holds = new GateResult("convergence", GateResult.State.HOLDS, "", Map.of());
        assertEquals("stack=unknown,convergence=holds", ClusterVerdict.of(skipped, holds).toString());
    }

    @Test
    void fleetSettingsNeedAnImageFromTheOptionOrTheEnvironment() {
        assertEquals(null, Fleet.Settings.parse(false, null, "ignored:1", "10m", null));
        assertThrows(Cli.BadInput.class, () -> Fleet.Settings.parse(false, "x:1", null, "10m", null), "--image without --fleet");
        assertThrows(Cli.BadInput.class, () -> Fleet.Settings.parse(false, null, null, "5m", null), "--fleet-timeout without --fleet");
        Cli.BadInput none = assertThrows(Cli.BadInput.class, () -> Fleet.Settings.parse(true, null, null, "10m", null));
        assertTrue(none.getMessage().contains(Fleet.IMAGE_ENV), none.getMessage());
        assertEquals("from-env:2", Fleet.Settings.parse(true, null, "from-env:2", "10m", "/c").image().toString());
        assertEquals("opt:1", Fleet.Settings.parse(true, "opt:1", "from-env:2", "10m", "/c").image().toString());
        assertEquals(Duration.ofSeconds(90), Fleet.Settings.parse(true, "opt:1", null, "90s", "/c").timeout());
        assertEquals(Duration.ofHours(1), Fleet.Settings.parse(true, "opt:1", null, "1h", "/c").timeout());
        for (String bad : List.of("0m", "10", "ten minutes", "5d", "-1m")) {
            assertThrows(Cli.BadInput.class, () -> Fleet.Settings.parse(true, "opt:1", null, bad, "/c"), bad);
        }
    }

    @Test
    void theJobIsOneGlobalJobWithTheNodesSocketAndReadOnlyDataRootNeverRestarted() {
        var command = Fleet.Command.prune("24h", false, Path.of("/run/ci-docker-prune.lock"));
        var gates = GatePolicy.Settings.parse("85", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null);
        List<String> args = Fleet.nodeArgs(command, gates, List.of(Path.of("/var/lib/docker")), ClusterVerdict.parse("stack=holds,convergence=holds"));
        assertEquals(List.of("prune", "--json", "--threshold", "85", "--stack-pattern", GatePolicy.Settings.DEFAULT_STACK_PATTERN,
                "--path", "/var/lib/docker", "--cluster-verdict", "stack=holds,convergence=holds",
                "--until", "24h", "--lock-file", "/run/ccci-host/ci-docker-prune.lock"), args);
        JsonNode spec = FleetJob.spec("ccci-fleet-x", "reg.example:5000/cc-ci:1", args, List.of(Path.of("/var/lib/docker")),
                command.lockFile().map(Path::getParent), List.of(DRAINED.id()));
        assertTrue(spec.path("Mode").has("GlobalJob"), spec.toString());
        assertEquals("1", spec.path("Labels").path(GatePolicy.FLEET_JOB_LABEL).asText());
        JsonNode container = spec.path("TaskTemplate").path("ContainerSpec");
        assertEquals("reg.example:5000/cc-ci:1", container.path("Image").asText());
        assertEquals(args, strings(container.path("Args")));
        assertEquals("none", spec.path("TaskTemplate").path("RestartPolicy").path("Condition").asText());
        assertEquals(List.of("bind /var/run/docker.sock:/var/run/docker.sock rw", "bind /var/lib/docker:/var/lib/docker ro",
                "bind /run:/run/ccci-host rw"), mounts(container));
        assertEquals(List.of("node.id!=" + DRAINED.id()), strings(spec.path("TaskTemplate").path("Placement").path("Constraints")));
    }

    @Test
    void aDryRunHasNoLockAndGatesOnlyTheGatesOptions() {
        var dry = Fleet.Command.prune("7d", true, Path.of("/run/ci-docker-prune.lock"));
        assertEquals(List.of("--until", "7d", "--dry-run"), dry.options());
        assertTrue(dry.lockFile().isEmpty());
        assertEquals(List.of(), Fleet.Command.gates().options());
    }

    @Test
    void aNodesNewestTaskCounts() throws Exception {
        JsonNode tasks = JSON.readTree("""
                [{"ID":"t1","NodeID":"n1","CreatedAt":"2026-11-30T10:00:00.5Z","Status":{"State":"failed"}},
                 {"ID":"t2","NodeID":"n1","CreatedAt":"2026-11-30T10:00:03.25Z","Status":{"State":"complete"}},
                 {"ID":"t3","NodeID":"n2","CreatedAt":"2026-11-30T10:00:01Z","Status":{"State":"running"}},
                 {"ID":"t4","NodeID":"","CreatedAt":"2026-11-30T10:00:01Z","Status":{"State":"pending"}}]""");
        Map<String, JsonNode> latest = FleetJob.latestTaskPerNode(tasks);
        assertEquals("t2", latest.get("n1").path("ID").asText());
        assertEquals("t3", latest.get("n2").path("ID").asText());
        assertEquals(2, latest.size());
    }

    @Test
    void aCompletedTaskReportsTheNodesOwnExitCodeFromItsJson() throws Exception {
        JsonNode task = task("complete", null, "");
        String out = "{\"outcome\":\"pruned\",\"exitCode\":0,\"dryRun\":false,\"diskBefore\":91,\"diskAfter\":62,"
                + "\"reclaimedBytes\":1500000,\"reason\":null,\"removed\":[{\"id\":\"a\"},{\"id\":\"b\"}]}";
        Fleet.NodeResult r = Fleet.fromTask(WORKER, task, new FleetJob.Logs(out, "exit=0\n", Optional.empty()));
        assertEquals(Fleet.Status.REPORTED, r.status());
        assertEquals(0, r.exitCode());
        assertEquals("pruned", r.outcome());
        assertEquals(Optional.of(91), r.diskBefore());
        assertEquals(Optional.of(62), r.diskAfter());
        assertEquals(2, r.removed());
        assertEquals(1_500_000, r.reclaimedBytes());

        Fleet.NodeResult stopped = Fleet.fromTask(WORKER, task, new FleetJob.Logs(
                "{\"outcome\":\"stopped\",\"exitCode\":13,\"reason\":\"gates closed before images\"}", "", Optional.empty()));
        assertEquals(13, stopped.exitCode());
        assertEquals("gates closed before images", stopped.detail());
    }

    @Test
    void aNodeWhoseJobPrintedNoResultOrFailedCountsAsMissing() throws Exception {
        Fleet.NodeResult bad = Fleet.fromTask(WORKER, task("complete", null, ""),
                new FleetJob.Logs("", "prune: --threshold 'x' is not a whole number\nexit=12\n", Optional.empty()));
        assertEquals(Fleet.Status.FAILED, bad.status());
        assertEquals(ExitCodes.FLEET_NODE_MISSING, bad.exitCode());
        assertTrue(bad.detail().contains("--threshold 'x'"), bad.detail());

        Fleet.NodeResult rejected = Fleet.fromTask(WORKER, task("rejected", null, "No such image: cc-ci:1"),
                new FleetJob.Logs("", "", Optional.empty()));
        assertEquals(Fleet.Status.FAILED, rejected.status());
        assertTrue(rejected.detail().contains("rejected: No such image: cc-ci:1"), rejected.detail());

        Fleet.NodeResult killed = Fleet.fromTask(WORKER, task("failed", 137, "task: non-zero exit (137)"), new FleetJob.Logs("", "", Optional.empty()));
        assertTrue(killed.detail().startsWith("its task failed (exit 137)"), killed.detail());

        Fleet.NodeResult unread = Fleet.fromTask(WORKER, task("complete", 0, ""),
                new FleetJob.Logs("", "", Optional.of("the logs did not arrive within 20 s")));
        assertEquals(Fleet.Status.FAILED, unread.status());
    }

    /** Issue 19 item 10: a node's report is not trusted: an exit code the toolkit does not have is a failure. */
    @Test
    void anExitCodeTheToolkitDoesNotHaveIsAFailureNotItsNumber() throws Exception {
        for (String forged : new String[] {"256", "-1", "9", "3.5", "\"0\"", "null"}) {
            Fleet.NodeResult r = Fleet.fromTask(WORKER, task("complete", 0, ""),
                    new FleetJob.Logs("{\"outcome\":\"pruned\",\"exitCode\":" + forged + "}", "", Optional.empty()));
            assertEquals(Fleet.Status.FAILED, r.status(), forged);
            assertEquals(ExitCodes.FLEET_NODE_MISSING, r.exitCode(), forged);
            assertTrue(r.detail().contains("exit code the toolkit does not have"), r.detail());
        }
        assertEquals(25, report(result(MANAGER, 0), Fleet.fromTask(WORKER, task("complete", 0, ""),
                new FleetJob.Logs("{\"exitCode\":256}", "", Optional.empty()))).exitCode(), "256 would read as 0 to a shell");
    }

    /** Issue 19 item 10: a node's output is read up to a bound: one node cannot exhaust the manager's heap. */
    @Test
    void aNodesLogsAreReadUpToABound() throws Exception {
        byte[] frame = new byte[8 + 100];
        frame[0] = 1;
        frame[7] = 100;
        java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 50; i++) {
            stream.write(frame);
        }
        EngineApi.Logs logs = Engine.demultiplex(new java.io.ByteArrayInputStream(stream.toByteArray()), 1000);
        assertEquals(1000, logs.out().length(), "at most the bound, however much the node wrote");
        assertTrue(FleetJob.LOGS_MAX_BYTES <= 1 << 20);
    }

    /** Issue 19 item 10: every node runs the content the manager resolved, not whatever its tag means on that node. */
    @Test
    void theJobRunsTheImagePinnedToTheDigestTheManagerResolved() {
        ccci.fake.FakeHost fake = new ccci.fake.FakeHost(ccci.fake.FakeHost.Store.CLASSIC);
        var served = fake.state().registryImage("localhost:5000/ccci/toolkit:1", fake.state().now(), Map.of("t1", 1000L));
        java.util.List<String> notes = new java.util.ArrayList<>();
        assertEquals("localhost:5000/ccci/toolkit:1@" + served.digest(),
                Fleet.pinned(fake, ImageRef.parse("localhost:5000/ccci/toolkit:1"), Optional.empty(), notes));
        assertEquals(java.util.List.of(), notes);
        assertEquals("localhost:5000/ccci/other:1", Fleet.pinned(fake, ImageRef.parse("localhost:5000/ccci/other:1"), Optional.empty(), notes),
                "neither the registry nor the manager knows it: the tag, and a note says so");
        assertTrue(notes.get(0).startsWith("nodes run localhost:5000/ccci/other:1 by its tag"), notes.toString());
    }

    @Test
    void theFleetExitsWithTheWorstNodesCodeAnd25WhenANodeIsMissing() {
        assertEquals(0, report(result(MANAGER, 0), result(WORKER, 0)).exitCode());
        assertEquals(13, report(result(MANAGER, 0), result(WORKER, 13)).exitCode());
        assertEquals(25, report(result(MANAGER, 13), missing(DRAINED, Fleet.Status.DRAINED)).exitCode());
        assertEquals(25, report().exitCode(), "no node at all is not success");
    }

    @Test
    void theTableHasOneLinePerNodeAndEscapesWhatTheEngineSaid() {
        Fleet.Node evil = new Fleet.Node("e1\u001bdddddddddddddddddddddd", "ci-\u001b[31mred", "worker", "down", "active");
        String text = FleetFormat.text(report(result(MANAGER, 0), missing(evil, Fleet.Status.DOWN)));
        assertFalse(text.contains("\u001b"), text);
        List<String> lines = text.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ci-1 m1aaaaaaaaaa") && l.contains("91% -> 62%") && l.contains("pruned")), text);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ci-\\x1b[31mred e1\\x1bddddddddd ") && l.contains("down: not run")), text);
        assertTrue(text.contains("fleet: 2 nodes: 1 down, 1 pruned; removed 2, reclaimed 1.5 MB; not accounted for: "), text);
        assertTrue(text.contains("exit 25"), text);
        assertTrue(text.contains("summary fleet=prune exit=25 nodes=2 reported=1 missing=1"), text);
    }

    static Fleet.Report report(Fleet.NodeResult... nodes) {
        List<GateResult> cluster = List.of(new GateResult("stack", GateResult.State.HOLDS, "none", Map.of()),
                new GateResult("convergence", GateResult.State.HOLDS, "all converged", Map.of()));
        return new Fleet.Report("prune", false, "ccci-fleet-t", "cc-ci:1", cluster, ClusterVerdict.of(cluster.get(0), cluster.get(1)),
                List.of(nodes), List.of(), Duration.ofSeconds(3));
    }

    static Fleet.NodeResult result(Fleet.Node node, int exit) {
        try {
            JsonNode json = JSON.readTree("{\"outcome\":\"" + (exit == 0 ? "pruned" : "stopped") + "\",\"exitCode\":" + exit
                    + ",\"diskBefore\":91,\"diskAfter\":62,\"reclaimedBytes\":1500000,\"removed\":[{},{}]}");
            return new Fleet.NodeResult(node, Fleet.Status.REPORTED, exit, Optional.of(json), "");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Fleet.NodeResult missing(Fleet.Node node, Fleet.Status status) {
        return new Fleet.NodeResult(node, status, ExitCodes.FLEET_NODE_MISSING, Optional.empty(), "not run: the node is down and active");
    }

    static JsonNode task(String state, Integer exit, String err) throws Exception {
        return JSON.readTree("{\"ID\":\"t\",\"NodeID\":\"n\",\"CreatedAt\":\"2026-11-30T10:00:00Z\",\"Status\":{\"State\":\"" + state
                + "\",\"Err\":" + JSON.writeValueAsString(err) + (exit == null ? "" : ",\"ContainerStatus\":{\"ExitCode\":" + exit + "}") + "}}");
    }

    static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }

    static List<String> mounts(JsonNode container) {
        List<String> list = new ArrayList<>();
        container.path("Mounts").forEach(m -> list.add(m.path("Type").asText() + " " + m.path("Source").asText() + ":"
                + m.path("Target").asText() + (m.path("ReadOnly").asBoolean() ? " ro" : " rw")));
        return list;
    }
}
