package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.WholeProduct;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real SIGTERM and SIGINT sent to prune and reuse-proof processes while they wait on a frozen
 * engine or registry (SIGSTOP): the summary carries the process's real exit code (143, 130), says
 * what was done and what is left changed, and prune writes its metrics.
 */
@WholeProduct
class SignalSummaryTest {
    static final String PASSWORD = "pw-" + UUID.randomUUID();
    static RegistryHost host;
    static SandboxEngine engine;
    static String image;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() {
        host = RegistryHost.start("ccci", PASSWORD, true);
        engine = host.engine();
        engine.importBusybox("ccci/busybox:sig");
        image = host.registry().address() + "/ccci/sig:1";
        engine.buildWithBuildKit("FROM ccci/busybox:sig\nRUN dd if=/dev/urandom of=/blob bs=1M count=20\n", image);
        engine.dockerOk("push", image);
    }

    @AfterAll
    static void stop() {
        if (host != null) {
            host.close();
        }
    }

    @Test
    void sigtermWhilePruneWaitsOnTheEngineSummarisesWithExit143AndWritesMetrics() throws Exception {
        stopPruneWhileTheEngineIsFrozen("TERM", 143);
    }

    @Test
    void ctrlCWhilePruneWaitsOnTheEngineSummarisesWithExit130() throws Exception {
        stopPruneWhileTheEngineIsFrozen("INT", 130);
    }

    void stopPruneWhileTheEngineIsFrozen(String signal, int exit) throws Exception {
        Path metrics = tmp.resolve("sig-" + signal + ".prom");
        ChildScript.signal(engine.dockerdPid(), "STOP");
        ChildScript prune;
        try {
            prune = ChildScript.start(tmp, Map.of(), "Prune", "--host", engine.host(), "--threshold", "1", "--until", "1s",
                    "--lock-file", tmp.resolve("sig.lock").toString(), "--metrics-file", metrics.toString());
            awaitEngineRequest(prune);
            prune.signal(signal);
            prune.finish(60);
        } finally {
            ChildScript.signal(engine.dockerdPid(), "CONT");
        }
        assertEquals(exit, prune.exit(), prune.toString());
        String summary = prune.out().lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow(() -> new AssertionError(prune));
        assertTrue(summary.startsWith("summary outcome=stopped exit=" + exit + " phases=none "), summary);
        assertTrue(summary.contains(" metrics=written"), summary);
        assertTrue(prune.out().contains("stopped by SIG" + signal + " while checking the gates: nothing more was started"), prune.toString());
        assertTrue(prune.err().contains("prune: stopped by SIG" + signal), prune.toString());
        String written = Files.readString(metrics);
        assertTrue(written.contains("ci_docker_prune_exit_code " + exit + "\n"), written);
        assertTrue(written.contains("ci_docker_prune_outcome{outcome=\"stopped\"} 1\n"), written);
        assertFalse((prune.out() + prune.err()).contains("\tat "), prune.toString());
    }

    @Test
    void ctrlCWhileTheDeployPullsSaysWhatIsLeftAndRemovesTheServiceAndExits130() throws Exception {
        engine.dockerOk("pull", image);
        ChildScript proof = ChildScript.start(tmp, Map.of(), "ReuseProof", "--host", engine.host(),
                "--config", engine.dockerConfigDir().toString(), "--image", image, "--command", "sleep 3600",
                "--lock-file", tmp.resolve("proof.lock").toString());
        boolean frozen = false;
        try {
            awaitLine(proof, "check     pass");
            ChildScript.signal(host.registry().pid(), "STOP"); // the deploy's pull now hangs
            frozen = true;
            awaitLine(proof, "remove    pass");
            Thread.sleep(1500); // into the deploy: its task is preparing (pulling)
            proof.signal("INT");
            proof.finish(60);
        } finally {
            if (frozen) {
                ChildScript.signal(host.registry().pid(), "CONT");
            }
            proof.kill();
        }
        assertEquals(130, proof.exit(), proof.toString());
        String out = proof.out();
        assertTrue(out.contains("STOPPED: stopped by SIGINT during deploy; service ccci-reuse-proof-"), proof.toString());
        assertTrue(out.contains(" removed; image removed; the deploy may have brought it back by its digest only: docker pull "
                + image + " brings it back with its tag"), proof.toString());
        String summary = out.lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow(() -> new AssertionError(proof));
        assertTrue(summary.startsWith("summary verdict=fail outcome=stopped exit=130 "), summary);
        assertFalse((out + proof.err()).contains(PASSWORD), "no secret");
        assertEquals("", engine.dockerOk("service", "ls", "-q", "--filter", "label=" + ProofService.LABEL), "no proof service left");
        engine.dockerOk("pull", image);
    }

    /** Waits until the process has a socket open (its first engine request), then a little more. */
    static void awaitEngineRequest(ChildScript child) throws Exception {
        for (int i = 0; i < 600; i++) {
            assertTrue(child.isAlive(), "exited early: " + child);
            String fds = Cmd.run("sh", "-c", "ls -l /proc/" + child.pid() + "/fd 2>/dev/null | grep -c socket || true").out().strip();
            if (!fds.isEmpty() && Integer.parseInt(fds) > 0) {
                Thread.sleep(500);
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no engine request within 60 s: " + child);
    }

    static void awaitLine(ChildScript child, String start) throws Exception {
        for (int i = 0; i < 6000; i++) {
            if (child.out().lines().anyMatch(l -> l.startsWith(start))) {
                return;
            }
            assertTrue(child.isAlive(), "exited before '" + start + "': " + child);
            Thread.sleep(10);
        }
        throw new AssertionError("no line '" + start + "' within 60 s: " + child);
    }
}
