package ccci.sandbox;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One node of a {@link SwarmCluster}: a {@link SandboxEngine} whose dockerd runs in a mount
 * namespace of its own (`unshare -m`), so that, for the containers it runs,
 * <ul>
 * <li>/var/run/docker.sock is this node's engine (dockerd also listens on /run/docker.sock, on a
 *     tmpfs private to the namespace): a task that bind-mounts it reaches its own node;</li>
 * <li>the data root is at the same path on every node ({@link SwarmCluster#dataRoot()}, as
 *     /var/lib/docker is on a real fleet): this node's own loop-mounted ext4, bind-mounted there
 *     inside the namespace (the host shows the manager's disk there, as on the manager's host). From
 *     the host the node's file system is at {@link #diskOnHost()}.</li>
 *     <li>on the containerd image store, containerd is dockerd's own (started by dockerd as its child,
 *     so inside the namespace), with its root in the data root (DATA_ROOT/containerd/daemon, on the
 *     node's own disk): a containerd started outside would resolve the containers' bind mounts in the
 *     host's namespace, where /var/run/docker.sock is not the node's.</li>
 * </ul>
 * Tests reach the engine from outside through its private socket ({@link #host()}).
 */
public final class SwarmNode {
    /** In the new namespace: nothing propagates back to the host; a /run of its own; the data root. */
    private static final String NAMESPACE_SCRIPT = """
            set -e
            mount --make-rprivate /
            mount -t tmpfs -o mode=0755,size=16m ccci-node-run /run
            mount --bind "$1" "$2"
            shift 2
            exec "$@" -H unix:///run/docker.sock
            """;

    private final String name;
    private final SandboxEngine engine;
    private String nodeId;

    private SwarmNode(String name, SandboxEngine engine) {
        this.name = name;
        this.engine = engine;
    }

    /** Starts the engine (not yet in a swarm) with its data root on a {@code diskMb} ext4. */
    static SwarmNode start(String name, int diskMb, Path dataRoot) {
        SandboxEngine engine = SandboxEngine.start(SandboxEngine.options()
                .swarm(false)
                .dataRootOnLoopFs(diskMb)
                .ownContainerd(true)
                .launcher(dockerd -> inOwnNamespace(dockerd, dataRoot)));
        return new SwarmNode(name, engine);
    }

    /** dockerd's command line, run in its own mount namespace with its data root moved to {@code dataRoot}. */
    static List<String> inOwnNamespace(List<String> dockerd, Path dataRoot) {
        if (dockerd.contains("--containerd")) {
            // a containerd started outside would run the containers outside the namespace, where
            // /var/run/docker.sock is the host's
            throw new IllegalArgumentException("a swarm node's containerd must be dockerd's own: " + dockerd);
        }
        List<String> command = new ArrayList<>(dockerd);
        int at = command.indexOf("--data-root") + 1;
        if (at == 0) {
            throw new IllegalArgumentException("no --data-root in " + dockerd);
        }
        String disk = command.set(at, dataRoot.toString());
        List<String> wrapped = new ArrayList<>(List.of(Provision.binary("unshare").toString(), "--mount",
                "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT, "swarm-node", disk, dataRoot.toString()));
        wrapped.addAll(command);
        return wrapped;
    }

    /** "manager", "worker1"...: also the node's label {@value SwarmCluster#NODE_LABEL}. */
    public String name() {
        return name;
    }

    public String nodeId() {
        return nodeId;
    }

    void nodeId(String id) {
        this.nodeId = id;
    }

    /** The engine, reached from the test through its private socket. */
    public SandboxEngine engine() {
        return engine;
    }

    /** unix://... the private socket of this node's engine. */
    public String host() {
        return engine.host();
    }

    /** This node's data root file system as the host sees it (fill it to drive the node's disk). */
    public Path diskOnHost() {
        return engine.dataRoot();
    }

    /** The docker CLI against this node's engine only. */
    public CommandResult docker(String... args) {
        return engine.docker(args);
    }

    public String dockerOk(String... args) {
        return engine.dockerOk(args);
    }

    public boolean isRunning() {
        return engine.isRunning();
    }

    /** Stops this node's dockerd (SIGTERM by pid) and keeps its state: the node goes down. */
    public void stopEngine() {
        engine.stopEngine();
    }

    /** Starts its dockerd again, in a fresh namespace; the node rejoins the swarm by itself. */
    public void startEngine() {
        engine.restartEngine();
    }

    @Override
    public String toString() {
        return name + "[" + nodeId + ", " + engine.workDir() + "]";
    }
}
