package ccci.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The multi-node swarm the fleet tests run on: three engines, each its own node with its own disk,
 * and a global job of the toolkit's image whose task on each node sees that node's engine and disk.
 * Once, on 28.5-containerd (the newest engine, the containerd store, every node's containerd its
 * dockerd's own): the cluster is the one FleetEngineTest shares in the same test JVM, and
 * FleetEngineTest runs it on every swarm engine.
 */
@OnSwarmEngines
@org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = EngineKind.PROPERTY, matches = "28\\.5-containerd",
        disabledReason = "the sandbox's own cluster mechanics, once: FleetEngineTest runs the cluster on every swarm engine")
class SwarmClusterTest {
    /**
     * The shared cluster closes at JVM exit, too late to fail a test: on an engine with a minimum
     * API (28.5-containerd: 1.44) no node may have refused a request as too old, from the toolkit's
     * node jobs or anything else.
     */
    @AfterAll
    static void noNodeRefusedARequestAsTooOld() {
        SwarmCluster.existing().ifPresent(cluster -> assertEquals(List.of(), cluster.requestsRefusedAsTooOld()));
    }

    private static final String BUSYBOX = "sbx-swarm/busybox:1";

    @Test
    void threeReadyNodesEachItsOwnEngineWithItsDataRootAtTheSamePath() throws IOException {
        SwarmCluster cluster = SwarmCluster.shared();
        assertEquals(3, cluster.nodes().size());
        Set<String> ids = new HashSet<>();
        for (SwarmNode node : cluster.nodes()) {
            assertEquals(node.nodeId(), node.dockerOk("info", "-f", "{{.Swarm.NodeID}}"), node + " answers on its own socket");
            assertEquals(cluster.dataRoot().toString(), node.dockerOk("info", "-f", "{{.DockerRootDir}}"));
            EngineKind kind = node.engine().kind();
            assertEquals(kind.containerdImageStore() ? "overlayfs" : "overlay2", node.dockerOk("info", "-f", "{{.Driver}}"),
                    node + ": the image store (the containerd store names its snapshotter)");
            kind.minApiVersion().ifPresent(min -> assertEquals(min, node.dockerOk("version", "-f", "{{.Server.MinAPIVersion}}"),
                    node + " refuses requests below " + min));
            if (kind.containerdImageStore()) {
                // dockerd's own containerd, its root on the node's disk, where the cluster says
                Path containerdRoot = node.diskOnHost().resolve(cluster.dataRoot().relativize(cluster.containerdRoot().orElseThrow()));
                assertTrue(Files.isRegularFile(containerdRoot.resolve("io.containerd.metadata.v1.bolt/meta.db")), containerdRoot.toString());
                assertEquals(Files.getFileStore(node.diskOnHost()), Files.getFileStore(containerdRoot));
            }
            assertEquals("ready active", cluster.state(node));
            assertEquals(node.name(), cluster.manager().dockerOk("node", "inspect", "-f",
                    "{{index .Spec.Labels \"" + SwarmCluster.NODE_LABEL + "\"}}", node.nodeId()));
            ids.add(node.nodeId());
        }
        assertEquals(3, ids.size());
        assertEquals("true", cluster.manager().dockerOk("info", "-f", "{{.Swarm.ControlAvailable}}"));
        for (SwarmNode worker : cluster.workers()) {
            assertEquals("false", worker.dockerOk("info", "-f", "{{.Swarm.ControlAvailable}}"));
        }
    }

    /**
     * Each node runs a container named like a live run-app stack of its own; `gates --json` as a
     * global job, with the node's socket and data root mounted, reports on every node exactly that
     * node's stack, its swarm role and its disk's size. On the containerd image store the job also
     * measures containerd's root (--containerd-root; dockerd's own containerd keeps it in the data
     * root, so it is on the node's disk too).
     */
    @Test
    void aGlobalJobOfTheToolkitImageSeesEachNodesOwnEngineAndDisk() throws IOException {
        SwarmCluster cluster = SwarmCluster.shared();
        String image = cluster.toolkitImage();
        List<String> stacks = new ArrayList<>();
        for (int i = 0; i < cluster.nodes().size(); i++) {
            SwarmNode node = cluster.nodes().get(i);
            String stack = "fl" + i + "-00000" + i + "_ci_commoninternet_net";
            node.engine().importBusybox(BUSYBOX);
            node.dockerOk("run", "-d", "--network", "none", "--name", stack + "_app", BUSYBOX, "sleep", "600");
            stacks.add(stack);
        }
        try (GlobalJob job = cluster.globalJob("ccci-gates-probe", gatesJobOptions(cluster), image, gatesExitZero(cluster))) {
            List<GlobalJob.Task> tasks = job.await(cluster.nodes(), Duration.ofMinutes(2));
            for (int i = 0; i < cluster.nodes().size(); i++) {
                SwarmNode node = cluster.nodes().get(i);
                GlobalJob.Task task = taskOn(node, tasks);
                assertTrue(task.complete(), node + ": " + task);
                CommandResult logs = job.logs(task);
                JsonNode report = new ObjectMapper().readTree(logs.out());
                assertEquals("exit=" + report.path("exitCode").asInt(), logs.err().strip(), node + ": " + logs.out());
                String out = logs.out();

                JsonNode stack = gate(report, "stack");
                assertEquals(1, stack.path("liveStacks").size(), node + " sees only its own containers: " + stack);
                assertEquals(stacks.get(i), stack.path("liveStacks").get(0).asText(), node + ": " + stack);

                assertEquals(i == 0 ? "manager" : "worker", gate(report, "convergence").path("swarm").asText(), node + ": " + out);

                JsonNode disk = gate(report, "disk");
                // the fullest path: the data root, or on the containerd store either of two paths on one
                // file system (measured a moment apart, the second can be a percent fuller)
                List<String> expected = new ArrayList<>(List.of(cluster.dataRoot().toString()));
                cluster.containerdRoot().ifPresent(root -> expected.add(root.toString()));
                assertTrue(expected.contains(disk.path("path").asText()), node + ": " + disk);
                FileStore store = Files.getFileStore(node.diskOnHost());
                long size = store.getTotalSpace() - store.getUnallocatedSpace() + store.getUsableSpace();
                assertEquals(size, disk.path("usedBytes").asLong() + disk.path("availableBytes").asLong(),
                        node + " measured its own disk: " + disk);
                List<String> measured = new ArrayList<>();
                disk.path("paths").forEach(p -> measured.add(p.path("path").asText()));
                assertEquals(expected, measured, node + ": " + disk);
                for (JsonNode path : disk.path("paths")) {
                    assertEquals(size, path.path("usedBytes").asLong() + path.path("availableBytes").asLong(),
                            node + ": " + path + " is on the node's own disk");
                }
            }
        } finally {
            for (int i = 0; i < cluster.nodes().size(); i++) {
                cluster.nodes().get(i).dockerOk("rm", "-f", stacks.get(i) + "_app");
            }
        }
    }

    /**
     * A worker whose engine is stopped never reports; the others finish; waiting for the job ends
     * at its timeout, and the job can be removed.
     */
    @Test
    void aStoppedWorkerNeverReportsTheOthersFinishAndTheWaitEndsAtItsTimeout() {
        SwarmCluster cluster = SwarmCluster.shared();
        String image = cluster.toolkitImage();
        SwarmNode stopped = cluster.workers().get(1);
        stopped.stopEngine();
        try (GlobalJob job = cluster.globalJob("ccci-gates-down", gatesJobOptions(cluster), image, gatesExitZero(cluster))) {
            Duration timeout = Duration.ofSeconds(10);
            long t0 = System.nanoTime();
            List<GlobalJob.Task> tasks = job.await(cluster.nodes(), timeout);
            Duration waited = Duration.ofNanos(System.nanoTime() - t0);
            assertTrue(waited.compareTo(timeout) >= 0 && waited.compareTo(timeout.plusSeconds(15)) < 0, "waited " + waited);
            for (SwarmNode node : List.of(cluster.manager(), cluster.workers().get(0))) {
                GlobalJob.Task task = taskOn(node, tasks);
                assertTrue(task.complete(), node + ": " + task);
                assertTrue(job.stdout(task).startsWith("{"), node + " reported");
            }
            assertTrue(tasks.stream().filter(t -> t.nodeId().equals(stopped.nodeId())).noneMatch(GlobalJob.Task::terminal),
                    "the stopped node has no finished task: " + tasks);
            System.err.println("[swarm test] stopped node: " + cluster.state(stopped) + "; tasks: " + tasks);
        } finally {
            stopped.startEngine();
        }
        cluster.awaitState(stopped, "ready", Duration.ofSeconds(60));
    }

    /** A drained node gets no task of a global job; the job completes on the others. */
    @Test
    void aDrainedNodeGetsNoTask() {
        SwarmCluster cluster = SwarmCluster.shared();
        String image = cluster.toolkitImage();
        SwarmNode drained = cluster.workers().get(0);
        cluster.drain(drained);
        try (GlobalJob job = cluster.globalJob("ccci-drained", List.of("--entrypoint", "/bin/sh -c"), image, "echo done")) {
            List<SwarmNode> active = List.of(cluster.manager(), cluster.workers().get(1));
            List<GlobalJob.Task> tasks = job.await(active, Duration.ofMinutes(1));
            assertEquals(2, tasks.size(), tasks.toString());
            for (SwarmNode node : active) {
                GlobalJob.Task task = taskOn(node, tasks);
                assertTrue(task.complete(), node + ": " + task);
                assertEquals("done", job.stdout(task).strip());
            }
            assertEquals("ready drain", cluster.state(drained));
        } finally {
            cluster.activate(drained);
        }
    }

    /**
     * Engine 20.10 runs a global job's task again and again while it exits non-zero, whatever the
     * restart policy; only exit 0 completes. A node's job must therefore exit 0 and report its
     * outcome in its output: here the JSON (with exitCode), and the exit code on stderr.
     */
    @Test
    void aGlobalJobTaskThatExitsNonZeroRunsAgainWhateverTheRestartPolicy() {
        SwarmCluster cluster = SwarmCluster.shared();
        String image = cluster.toolkitImage();
        List<String> options = List.of("--restart-condition", "none", "--entrypoint", "/bin/sh -c");
        try (GlobalJob job = cluster.globalJob("ccci-exit-3", options, image, "exit 3")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<GlobalJob.Task> failed;
            do {
                SwarmCluster.sleep(500);
                failed = job.tasks().stream().filter(t -> t.state().equals("failed")).toList();
            } while (failed.stream().map(GlobalJob.Task::nodeId).distinct().count() == failed.size() && System.nanoTime() < deadline);
            assertTrue(failed.size() > failed.stream().map(GlobalJob.Task::nodeId).distinct().count(),
                    "a node ran the failed task again: " + failed);
            assertTrue(failed.stream().allMatch(t -> t.exitCode() == 3), failed.toString());
        }
    }

    /**
     * gates --json on the node, exiting 0 (see above), its exit code on stderr as exit=N; on the
     * containerd store with --containerd-root, as no /var/lib/containerd exists on the nodes.
     */
    static String[] gatesExitZero(SwarmCluster cluster) {
        String containerdRoot = cluster.containerdRoot().map(root -> " --containerd-root " + root).orElse("");
        return new String[] {"/opt/cc-ci/bin/cc-ci gates --json" + containerdRoot + "; echo exit=$? >&2"};
    }

    /** What a fleet run gives each node's task: its own engine's socket and data root at the usual paths. */
    static List<String> gatesJobOptions(SwarmCluster cluster) {
        String root = cluster.dataRoot().toString();
        return List.of("--entrypoint", "/bin/sh -c",
                "--mount", "type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock",
                "--mount", "type=bind,source=" + root + ",target=" + root + ",readonly");
    }

    private static GlobalJob.Task taskOn(SwarmNode node, List<GlobalJob.Task> tasks) {
        return GlobalJob.latestOn(node, tasks).orElseThrow(() -> new AssertionError("no task on " + node + ": " + tasks));
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
