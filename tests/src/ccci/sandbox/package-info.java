/**
 * A real, private Docker sandbox for the tests: {@link ccci.sandbox.SandboxEngine} (a dockerd of one
 * {@link ccci.sandbox.EngineKind}: Debian's docker.io 20.10, 26.1 or 28.5, the last also with the
 * containerd image store; optionally a single-node swarm, optionally on a small loop-mounted or
 * tmpfs data root), {@link ccci.sandbox.SandboxRegistry} (Debian's docker-registry with htpasswd),
 * crafted images ({@link ccci.sandbox.ImageSpec}) and {@link ccci.sandbox.Sandboxes#sharedSwarm()};
 * a multi-node swarm ({@link ccci.sandbox.SwarmCluster}, {@link ccci.sandbox.GlobalJob}) and the
 * toolkit's container image built without a registry ({@link ccci.sandbox.ToolkitImage}).
 *
 * <p>Facts checked on the target machine (Debian 12, kernel 6.x, as root), which the code relies on:
 * <ul>
 * <li>overlay2 works with the data root on ext4 (/tmp, or a loop-mounted image) and on tmpfs.</li>
 * <li>Engines run with {@code --bridge none}: use {@code docker run --network none}; swarm services
 *     (no published ports) run without any extra network option.</li>
 * <li>Swarm init costs ~0.2-0.7 s and ~123 MB of the data root (raft WAL); a 256 MB loop fs keeps
 *     ~100 MB free after it. Several swarm engines can run at once (each gets its own listen port).</li>
 * <li>dockerd stops running containers on SIGTERM with their own stop timeout (10 s by default),
 *     whatever --shutdown-timeout says; the sandbox busybox's {@code sleep} exits on SIGTERM.</li>
 * <li>A SIGKILLed dockerd leaves containerd shims, containers and mounts behind: close() kills them
 *     by pid and unmounts. A hard-killed test JVM is covered by a watchdog shell process.</li>
 * <li>trixie's and sid's dockerd and containerd run on bookworm; sid's runc does not (glibc 2.38),
 *     so the host's runc comes first on their PATH. They are fetched once into
 *     /var/cache/ccci-engines by a private apt-get ({@link ccci.sandbox.EngineCache}).</li>
 * <li>On the containerd image store a loaded image's ID is the digest of the manifest containerd
 *     writes for it, and `docker info` shows the driver "overlayfs" (the snapshotter).</li>
 * <li>containerd's shims (any version here) put their sockets in the fixed /run/containerd/s and
 *     remove them when they exit; dockerd 28 creates an empty /run/docker/plugins.</li>
 * <li>Installing docker.io / docker-registry starts their services unless /usr/sbin/policy-rc.d
 *     denies it: {@link ccci.sandbox.Provision} puts one in place while it installs.</li>
 * <li>Each swarm node's dockerd runs in its own mount namespace (`unshare -m`, a tmpfs /run):
 *     a task bind-mounting /var/run/docker.sock reaches its own node's engine. Nodes share the
 *     host's hostname: tell them apart by node ID or the ccci.node label.</li>
 * <li>On the containerd image store a swarm node's dockerd runs without --containerd and starts its
 *     own containerd as its child, inside the namespace (root DATA_ROOT/containerd/daemon): one
 *     started outside would resolve the containers' bind mounts in the host's namespace. dockerd's
 *     own containerd keeps DATA_ROOT/containerd/daemon on the classic store too (no images there).</li>
 * <li>28.5 with DOCKER_MIN_API_VERSION=1.44 in its environment refuses older requests with HTTP 400
 *     ("client version 1.41 is too old. Minimum supported API version is 1.44"); with --debug its
 *     log names each ("error response for GET request" ... request-url=/v1.41/...). Debian's 20.10
 *     CLI builds with BuildKit against it when told DOCKER_API_VERSION=1.44.</li>
 * <li>On the containerd store `docker system df` fails while a container is being removed (HTTP
 *     500 "rw layer snapshot not found for container ...", or 404 "NotFound: snapshot ... does not
 *     exist").</li>
 * <li>tests/run runs its executions side by side: the toolkit image is built by one JVM at a time
 *     (a file lock in its cache dir); two exports at once shared JBang's state and left a truncated
 *     class in the jars.</li>
 * <li>On engine 20.10 a global job's task that exits non-zero is run again and again, whatever
 *     --restart-condition says (none: at once; others: every 5 s); only exit 0 completes it.</li>
 * <li>A global job's own service counts as "converging" on the manager while its tasks run.</li>
 * </ul>
 */
package ccci.sandbox;
