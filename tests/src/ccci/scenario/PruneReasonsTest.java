package ccci.scenario;

import static ccci.scenario.Peers.MB;
import static ccci.scenario.Peers.options;
import static ccci.scenario.Peers.prune;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.InUse;
import ccci.Json;
import ccci.PruneFormat;
import ccci.PruneMetrics;
import ccci.PruneRun;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.Provision;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * Why nothing was freed (kubernetes#71869), on the fake host: prune's metrics say why each object
 * went (dangling debris, build cache, eviction for space, by age) and, for what stayed, why each
 * image was kept (in use, keep, young, cache, tagged); "over the threshold and nothing removable"
 * is a gauge of its own (deploy/prometheus has its alert), a line in the text and a JSON field.
 */
class PruneReasonsTest {
    static final Duration DAY = Duration.ofDays(1);

    @TempDir Path dir;

    int written;

    /** The metrics file prune writes for this report (--metrics-file), as node_exporter would read it. */
    String metrics(PruneRun.Report report) throws Exception {
        Path file = dir.resolve("written-" + (++written) + ".prom");
        PruneMetrics.write(file, report, Instant.parse("2026-12-07T12:00:00Z"));
        return Files.readString(file);
    }

    static void promtoolAccepts(Path dir, String metrics) throws Exception {
        Path file = dir.resolve("prune.prom");
        Files.writeString(file, metrics);
        ProcessResult check = new ProcessExecutor(Provision.ensureBinary("promtool", "prometheus").toString(), "check", "metrics")
                .redirectInput(Files.newInputStream(file)).readOutput(true).redirectErrorStream(true)
                .timeout(30, TimeUnit.SECONDS).execute();
        assertEquals(0, check.getExitValue(), "promtool check metrics:\n" + check.outputUTF8() + "\n" + metrics);
    }

    @Test
    void eachRemovalCarriesItsReason() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        Instant built = s.now();
        Peers.image(s, null, 10, built);                               // debris: the image phase's
        Peers.image(s, "ccci/ancient:1", 30, built);                   // unused for 60 days: by age
        s.buildCache("regular", 20 * MB, Optional.of(built));          // unused for 60 days: phase 3
        s.advance(DAY.multipliedBy(40));
        Peers.image(s, "ccci/spare:1", 40, s.now());                   // unused for 20 days: for space
        s.advance(DAY.multipliedBy(20));
        Peers.diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, options().evictTo(78).maxUnusedAge("30d"), false);
        String m = metrics(report);
        System.out.println("[why each object went: metrics]\n" + m);
        assertTrue(m.contains("\nci_docker_prune_removed_by_reason{reason=\"dangling\"} 1\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_by_reason{reason=\"build-cache\"} 1\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_by_reason{reason=\"age\"} 1\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_by_reason{reason=\"space\"} 1\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_bytes_by_reason{reason=\"dangling\"} 10000000\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_bytes_by_reason{reason=\"build-cache\"} 20000000\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_bytes_by_reason{reason=\"age\"} 30000000\n"), m);
        assertTrue(m.contains("\nci_docker_prune_removed_bytes_by_reason{reason=\"space\"} 40000000\n"), m);
        assertTrue(m.contains("\nci_docker_prune_nothing_removable 0\n"), m);
        promtoolAccepts(dir, m);
    }

    /** A full disk where every image is kept, one for each reason: the run says why, and the gauge is 1. */
    FakeHost keptForEveryReason() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        Instant built = s.now();
        FakeState.Image used = Peers.image(s, "ccci/used:1", 10, built);
        s.container("runner", used, "running");
        Peers.image(s, "ccci/pinned:1", 10, built);
        Peers.image(s, "ccci/tagged:1", 10, built);
        FakeState.RegistryImage cached = s.registryImage("localhost:5000/acc/cached:1", built, Map.of("l-cached", 10 * MB));
        host.pull("localhost:5000/acc/cached", cached.digest(), Optional.empty(), Duration.ofSeconds(5), x -> {});
        s.advance(DAY.multipliedBy(10));
        Peers.image(s, null, 10, s.now().minus(Duration.ofHours(2))); // young debris
        Peers.diskAt(host, 900, 1000);
        return host;
    }

    @Test
    void anEmptyRunSaysWhatKeepsTheSpace() throws Exception {
        FakeHost host = keptForEveryReason();
        PruneRun.Report report = prune(host, options().keep(InUse.Settings.parse(List.of("^ccci/pinned:"), List.of())), false);
        String text = PruneFormat.text(report);
        System.out.println("[nothing removable, real run]\n" + text);
        assertTrue(report.nothingRemovable(), text);
        assertEquals(Map.of("in-use", 1, "keep", 1, "young", 1, "cache", 1, "tagged", 1), report.keptImages());
        assertTrue(text.contains("nothing removable: the disk is at or above the threshold and the policy keeps every image "
                + "(1 in-use, 1 keep, 1 young, 1 cache, 1 tagged)\n"), text);
        assertTrue(PruneFormat.summary(report).contains(" nothing_removable=true "), PruneFormat.summary(report));
        String m = metrics(report);
        for (String reason : List.of("in-use", "keep", "young", "cache", "tagged")) {
            assertTrue(m.contains("\nci_docker_prune_kept_images{reason=\"" + reason + "\"} 1\n"), reason + "\n" + m);
        }
        assertTrue(m.contains("\nci_docker_prune_nothing_removable 1\n"), m);
        promtoolAccepts(dir, m);
        JsonNode json = Json.mapper().readTree(PruneFormat.json(report));
        assertTrue(json.path("nothingRemovable").asBoolean());
        assertEquals(1, json.path("keptImages").path("cache").asInt());

        PruneRun.Report dry = prune(keptForEveryReason(), options().keep(InUse.Settings.parse(List.of("^ccci/pinned:"), List.of())), true);
        assertTrue(dry.nothingRemovable(), "the dry run says so too:\n" + PruneFormat.text(dry));
        assertEquals(report.keptImages(), dry.keptImages());
    }

    @Test
    void evictionMayRemoveWhatThePolicyKeeps() throws Exception {
        // with eviction, the tagged and cached images go: something was removable
        PruneRun.Report report = prune(keptForEveryReason(), options().evictTo(50).minAge("1d")
                .keep(InUse.Settings.parse(List.of("^ccci/pinned:"), List.of())), false);
        assertFalse(report.nothingRemovable(), PruneFormat.text(report));
        assertEquals(0, report.keptImages().get("tagged"), PruneFormat.text(report));
        assertTrue(metrics(report).contains("\nci_docker_prune_removed_by_reason{reason=\"space\"} 2\n"), metrics(report));
    }

    @Test
    void notOverTheThresholdOrBlockedIsNotNothingRemovable() throws Exception {
        FakeHost below = keptForEveryReason();
        Peers.diskAt(below, 500, 1000);
        assertFalse(prune(below, options(), false).nothingRemovable());

        FakeHost blocked = keptForEveryReason();
        blocked.state().service("abcd-123456_ci_commoninternet_net_app", "ccci/used:1");
        PruneRun.Report report = prune(blocked, options(), false);
        assertEquals(PruneRun.Outcome.NOOP, report.outcome());
        assertFalse(report.nothingRemovable(), "blocked by a gate: the blocked clock's business");
        assertTrue(metrics(report).contains("\nci_docker_prune_nothing_removable 0\n"));
    }
}
