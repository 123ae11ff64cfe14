package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The seed's result, on two engines built into the same state: prune removes what the seed's three
 * commands (`docker {container,image,builder} prune -f --filter until=AGE`) remove, except an
 * untagged image that came from a registry and is the newest of its repository here (DESIGN.md):
 * the cache a redeploy needs. Both engines get one the way a CI host does: a stack service deployed
 * from the sandbox's registry (the node pulls it by digest), then removed. On the classic store it
 * is left untagged and the seed's image prune removes it once old enough, the toolkit keeps it; on
 * the containerd store it keeps its tag and both keep it. With 24h only the old dangling images go;
 * then, on the same engines, with 3s every phase removes something (containers, young images, images
 * freed by phase 1, build cache), which exercises every phase and their order.
 */
@OnEveryEngine
class PruneSeedEquivalenceTest {
    static final String USER = "ccci";
    static final String SERVICE = "abcd-123456_ci_commoninternet_net_app";

    @Test
    void pruneRemovesWhatTheSeedsCommandsRemoveExceptTheRegistryCache() throws Exception {
        Instant now = Instant.now();
        String password = "pw-" + UUID.randomUUID();
        try (SandboxRegistry registry = SandboxRegistry.start(USER, password);
             SandboxEngine toolkit = SandboxEngine.start(SandboxEngine.options().swarm(true));
             SandboxEngine seed = SandboxEngine.start(SandboxEngine.options().swarm(true))) {
            String app = registry.address() + "/acc/app:1";
            pushAnAppImage(toolkit, registry, password, app);
            for (SandboxEngine engine : List.of(toolkit, seed)) {
                PruneScenario.build(engine, now, 1, false);
                // the built image is unused cache once untagged: lets builder prune find something
                engine.dockerOk("rmi", "ccci/built:1");
                engine.login(registry.address(), USER, password);
                engine.dockerOk("service", "create", "--detach", "--with-registry-auth", "--name", SERVICE,
                        "--label", HostSnapshot.STACK_LABEL + "=abcd-123456_ci_commoninternet_net", app, "sleep", "3600");
                engine.awaitServiceContainer(SERVICE);
                engine.removeService(SERVICE); // torn down: its image stays, pulled by digest
            }
            Set<String> start = PruneScenario.survivors(toolkit);
            assertEquals(start, PruneScenario.survivors(seed), "both engines start from the same state");
            boolean classic = !toolkit.kind().containerdImageStore();
            String cache = "image " + registry.address() + "/acc/app:" + (classic ? "<none>" : "1");
            assertTrue(start.contains(cache), "the deploy left the app image " + (classic ? "untagged" : "tagged") + ": " + start);

            // 24h: the app image is minutes old, both keep it
            Set<String> removed24h = pruneBoth(toolkit, seed, "24h", Set.of());
            assertTrue(removed24h.size() >= 3, "the state gives prune something to remove: " + removed24h);

            // 3s: every phase; the seed's image prune now removes the untagged registry image, the toolkit keeps it
            PruneScenario.awaitAllOlderThan(toolkit, Duration.ofSeconds(3));
            PruneScenario.awaitAllOlderThan(seed, Duration.ofSeconds(3));
            Set<String> removed3s = pruneBoth(toolkit, seed, "3s", classic ? Set.of(cache) : Set.of());
            assertTrue(removed3s.contains("container ccci-exited"), "phase 1 ran: " + removed3s);
            assertTrue(removed3s.stream().anyMatch(r -> r.startsWith("build-cache ")), "phase 3 ran: " + removed3s);
            assertTrue(PruneScenario.survivors(toolkit).contains(cache), "the toolkit keeps the registry cache");

            // and the redeploy finds it: the node pulls nothing
            toolkit.dockerOk("service", "create", "--detach", "--with-registry-auth", "--name", SERVICE, app, "sleep", "3600");
            toolkit.awaitServiceContainer(SERVICE);
            assertTrue(toolkit.dockerOk("events", "--since", now.getEpochSecond() + "", "--until", Instant.now().getEpochSecond() + "",
                    "--filter", "type=image", "--filter", "event=pull", "--format", "{{.Actor.ID}}").lines().count() <= 1,
                    "only the first deploy pulled");
            toolkit.removeService(SERVICE);
        }
    }

    /**
     * An app image the registry serves, built on the toolkit's engine without BuildKit (a container
     * committed: no build cache on one engine only), pushed, then removed there: both engines get it
     * only from the registry.
     */
    static void pushAnAppImage(SandboxEngine engine, SandboxRegistry registry, String password, String app) {
        engine.importBusybox("ccci-bb:app-maker");
        engine.dockerOk("run", "--name", "ccci-app-maker", "--network", "none", "ccci-bb:app-maker", "sh", "-c", "echo app > /app");
        engine.dockerOk("commit", "ccci-app-maker", app);
        engine.dockerOk("rm", "ccci-app-maker");
        engine.login(registry.address(), USER, password);
        engine.dockerOk("push", app);
        engine.dockerOk("rmi", app);
        engine.dockerOk("rmi", "ccci-bb:app-maker"); // an import is an image of its own (its time in the config): none left here
    }

    /**
     * A dry run and a real run on the toolkit's engine, the seed's three commands on the other:
     * returns what both removed; the toolkit kept exactly {@code keptByToolkitOnly} more.
     */
    static Set<String> pruneBoth(SandboxEngine toolkit, SandboxEngine seed, String until, Set<String> keptByToolkitOnly) {
        Set<String> start = PruneScenario.survivors(toolkit);
        String[] args = {"--host", toolkit.host(), "--threshold", "1", "--until", until,
            "--lock-file", toolkit.workDir().resolve("prune.lock").toString(), "--json"};
        CommandResult dryRun = ScriptRun.of("Prune", concat(args, "--dry-run"));
        CommandResult run = ScriptRun.of("Prune", args);
        // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
        assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        assertEquals(PruneJson.ids(dryRun.json().path("wouldRemove")), PruneJson.ids(run.json().path("removed")),
                "the dry run lists exactly what the real run removes\n" + dryRun.out() + run.out());

        seed.dockerOk("container", "prune", "-f", "--filter", "until=" + until);
        seed.dockerOk("image", "prune", "-f", "--filter", "until=" + until);
        seed.dockerOk("builder", "prune", "-f", "--filter", "until=" + until);

        Set<String> afterToolkit = PruneScenario.survivors(toolkit);
        Set<String> afterSeed = PruneScenario.survivors(seed);
        Set<String> seedOnly = new TreeSet<>(afterSeed);
        seedOnly.removeAll(afterToolkit);
        assertEquals(Set.of(), seedOnly, "--until " + until + ": prune removes everything the seed's commands remove");
        Set<String> toolkitOnly = new TreeSet<>(afterToolkit);
        toolkitOnly.removeAll(afterSeed);
        assertEquals(keptByToolkitOnly, toolkitOnly, "--until " + until + ": and keeps only the registry cache besides\n" + run.out());
        Set<String> removed = new TreeSet<>(start);
        removed.removeAll(afterToolkit);
        System.out.println("until=" + until + " removed by both: " + removed + "; kept by the toolkit only: " + toolkitOnly);
        return removed;
    }

    static String[] concat(String[] args, String more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = more;
        return all;
    }
}
