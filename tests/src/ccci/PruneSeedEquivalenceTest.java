package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Same result as the seed: on two engines built into the same state, prune removes exactly what the
 * seed's three commands remove (`docker {container,image,builder} prune -f --filter until=AGE`).
 * With 24h only the old dangling images go; with a few seconds, containers, young images, images
 * freed by phase 1 and build cache go too, which exercises every phase and their order.
 */
@OnEveryEngine
class PruneSeedEquivalenceTest {

    static String[] concat(String[] args, String more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = more;
        return all;
    }

    @ParameterizedTest(name = "until={0}")
    @ValueSource(strings = {"24h", "3s"})
    void pruneRemovesExactlyWhatTheSeedsCommandsRemove(String until) throws Exception {
        Instant now = Instant.now();
        try (SandboxEngine toolkit = SandboxEngine.start(SandboxEngine.options().swarm(false));
             SandboxEngine seed = SandboxEngine.start(SandboxEngine.options().swarm(false))) {
            PruneScenario.build(toolkit, now, 1, false);
            PruneScenario.build(seed, now, 1, false);
            // the built image is unused cache once untagged: lets builder prune find something
            toolkit.dockerOk("rmi", "ccci/built:1");
            seed.dockerOk("rmi", "ccci/built:1");
            Set<String> start = PruneScenario.survivors(toolkit);
            assertEquals(start, PruneScenario.survivors(seed), "both engines start from the same state");
            if (!until.endsWith("h")) {
                Duration short_ = Duration.ofSeconds(Long.parseLong(until.replace("s", "")));
                PruneScenario.awaitAllOlderThan(toolkit, short_);
                PruneScenario.awaitAllOlderThan(seed, short_);
            }

            String[] args = {"--host", toolkit.host(), "--threshold", "1", "--until", until,
                "--lock-file", toolkit.workDir().resolve("prune.lock").toString(), "--json"};
            CommandResult dryRun = ScriptRun.of("Prune", concat(args, "--dry-run"));
            CommandResult run = ScriptRun.of("Prune", args);
            // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
            assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
            assertEquals(PruneEngineTest.ids(dryRun.json().path("wouldRemove")), PruneEngineTest.ids(run.json().path("removed")),
                    "the dry run lists exactly what the real run removes\n" + dryRun.out() + run.out());

            seed.dockerOk("container", "prune", "-f", "--filter", "until=" + until);
            seed.dockerOk("image", "prune", "-f", "--filter", "until=" + until);
            seed.dockerOk("builder", "prune", "-f", "--filter", "until=" + until);

            Set<String> afterToolkit = PruneScenario.survivors(toolkit);
            Set<String> afterSeed = PruneScenario.survivors(seed);
            assertEquals(afterSeed, afterToolkit, "prune must remove what the seed's commands remove");
            Set<String> removed = new TreeSet<>(start);
            removed.removeAll(afterToolkit);
            System.out.println("until=" + until + " removed by both: " + removed);
            assertTrue(removed.size() >= 3, "the state gives prune something to remove: " + removed);
            if (until.endsWith("s")) {
                assertTrue(removed.contains("container ccci-exited"), "phase 1 ran: " + removed);
                assertTrue(removed.stream().anyMatch(r -> r.startsWith("build-cache ")), "phase 3 ran: " + removed);
            }
        }
    }
}
