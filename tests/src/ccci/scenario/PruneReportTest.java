package ccci.scenario;

import static ccci.PruneJson.ids;
import static ccci.PruneJson.reasonFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.Json;
import ccci.PruneFormat;
import ccci.PruneMetrics;
import ccci.PruneRun;
import ccci.PruneShortfall;
import ccci.PruneState;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.Provision;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * What prune reports, on the fake host: the real run's lines as the command prints them (intent,
 * one line per phase, what it removed, the summary) and its JSON; the dry run's list; when it is not
 * enough (insufficient, exit 17; the dry run's estimate; blocked too long, exit 18) with the state
 * file's notes; the metrics file, read back with Prometheus' own parser (promtool).
 */
class PruneReportTest {
    static final String STACK = "abcd-1a2b3c_ci_commoninternet_net_app";
    static final Duration MONTH = Duration.ofDays(30);
    @TempDir Path dir;

    /** A host at 81% that the phases bring to 78%: old debris beside everything prune keeps. */
    record Host(FakeHost host, FakeState.Image busybox, FakeState.Image oldTagged, FakeState.Image young, List<FakeState.Image> debris,
                FakeState.Image usedUntagged, FakeState.Container exited) {}

    static Host host() {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.disk(10 * OnFake.GB, 7_780_000_000L);
        Instant old = s.now().minus(MONTH);
        FakeState.Image busybox = s.image("ccci-bb:prune").created(old);
        FakeState.Image oldTagged = s.image("ccci/old-tagged:1").created(old);
        FakeState.Image young = s.image().created(s.now().minus(Duration.ofHours(1)));
        List<FakeState.Image> debris = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            debris.add(s.image().created(old).layer("debris-" + i, 100_000_000L));
        }
        FakeState.Image usedUntagged = s.image().created(old);
        s.container("ccci-holds-dangling", usedUntagged, "created");
        s.container("ccci-created", busybox, "created");
        FakeState.Container exited = s.container("ccci-exited", busybox, "exited").created(old);
        s.service("ccci-keeper", "ccci-bb:prune");
        s.volume("ccci-data");
        host.clearRequests();
        return new Host(host, busybox, oldTagged, young, debris, usedUntagged, exited);
    }

    /** Prints what the command prints as the run goes (its listener), then the report. */
    static String runAsTheCommandPrints(FakeHost host, PruneRun.Settings settings, boolean dryRun, PruneRun.Report[] report) {
        StringBuilder out = new StringBuilder();
        report[0] = OnFake.prune(host, settings, dryRun, new PruneRun.Listener() {
            @Override
            public void planned(ccci.GatePolicy.Verdict verdict, ccci.PrunePolicy.Plan plan) {
                out.append(PruneFormat.intentLine(verdict, plan)).append(System.lineSeparator());
            }

            @Override
            public void phaseDone(PruneRun.PhaseResult result) {
                out.append(PruneFormat.phaseLine(result)).append(System.lineSeparator());
            }
        });
        return out.append(PruneFormat.text(report[0])).toString();
    }


    @Test
    void aDryRunListsWhatARealRunWouldRemoveAndKeepWithReasons() throws Exception {
        Host h = host();
        PruneRun.Report[] report = new PruneRun.Report[1];
        String text = runAsTheCommandPrints(h.host(), OnFake.settings("24h"), true, report);
        assertEquals(List.of(), h.host().changes(), "a dry run removes nothing");
        List<String> lines = text.lines().toList();
        assertTrue(lines.get(0).startsWith("gates hold: 81% of /var/lib/docker \u2265 80%; no live run-app stack"), text);
        assertEquals("dry run: nothing removed; a real run would do this:", lines.get(1));
        for (FakeState.Image debris : h.debris()) {
            assertTrue(text.contains("\n  remove image       " + OnFake.shortId(debris.id) + " <none>:<none>"), text);
        }
        assertTrue(text.contains("\n  remove container   " + OnFake.shortId(h.exited().id) + " ccci-exited"), text);
        assertTrue(text.contains("\nwould remove 1 container, 3 images, 0 build cache records (303.0 MB); keeps "), text);
        assertTrue(text.contains("\nsummary outcome=dry-run exit=0 phases=none reclaimed_bytes=0 disk_before=81 disk_after=81 "), text);

        JsonNode json = Json.mapper().readTree(PruneFormat.json(report[0]));
        assertTrue(json.path("dryRun").asBoolean());
        assertFalse(json.path("ran").asBoolean());
        Set<String> wouldRemove = new TreeSet<>(List.of(h.exited().id));
        h.debris().forEach(d -> wouldRemove.add(d.id));
        assertEquals(wouldRemove, ids(json.path("wouldRemove")));
        JsonNode kept = json.path("kept");
        assertEquals("in use by container ccci-holds-dangling (created)", reasonFor(kept, h.usedUntagged().id));
        assertEquals("tagged", reasonFor(kept, h.oldTagged().id));
        assertEquals("created 1h ago (no record, its creation time), within 24h", reasonFor(kept, h.young().id));
        assertEquals("volume: never pruned", reasonFor(kept, "ccci-data"));
    }

    @Test
    void aRealRunSaysWhatItWillDoThenEachPhaseThenWhatItRemoved() throws Exception {
        Host h = host();
        PruneRun.Report[] report = new PruneRun.Report[1];
        String text = runAsTheCommandPrints(h.host(), OnFake.settings("24h"), false, report);
        List<String> lines = text.lines().toList();
        assertTrue(lines.get(0).matches("gates hold: 81% of /var/lib/docker \u2265 80%; .*; will remove 1 container, 3 images, "
                + "0 build cache records \\(303\\.0 MB\\)"), text);
        assertTrue(lines.get(1).startsWith("containers   removed 1, reclaimed 0 B in "), text);
        assertTrue(lines.get(2).startsWith("images       removed 3, reclaimed 303.0 MB in "), text);
        assertTrue(lines.get(3).startsWith("build-cache  removed 0, reclaimed 0 B in "), text);
        assertTrue(text.contains("\nremoved image       " + OnFake.shortId(h.debris().get(0).id)), text);
        String summary = lines.get(lines.size() - 1);
        assertTrue(summary.matches("summary( [a-z_]+=(\"[^\"]*\"|[^\\s\"]+))+"), "one journald-friendly line: " + summary);
        assertTrue(summary.startsWith("summary outcome=pruned exit=0 phases=containers,images,build-cache containers_removed=1 "
                + "images_removed=3 build_cache_removed=0 reclaimed_bytes=303000000 disk_before=81 disk_after=78 images_before=7 "
                + "images_after=4 elapsed_ms="), summary);

        JsonNode json = Json.mapper().readTree(PruneFormat.json(report[0]));
        assertTrue(json.path("ran").asBoolean());
        assertEquals(81, json.path("diskBefore").asInt());
        assertEquals(78, json.path("diskAfter").asInt());
        assertEquals(303_000_000L, json.path("reclaimedBytes").asLong(), "the removed images' unique bytes");
        JsonNode phases = json.path("phases");
        assertEquals(List.of("containers", "images", "build-cache"), List.of(phases.get(0).path("name").asText(),
                phases.get(1).path("name").asText(), phases.get(2).path("name").asText()));
        assertEquals(3, phases.get(1).path("removed").asInt());
        Set<String> removed = new TreeSet<>(List.of(h.exited().id));
        h.debris().forEach(d -> removed.add(d.id));
        assertEquals(removed, ids(json.path("removed")));
        assertTrue(h.host().state().containerNamed("ccci-created").isPresent() && h.host().state().imageById(h.busybox().id).isPresent());
    }

    // ---------------------------------------------------------------- not enough

    /** A host whose disk tagged images nothing uses fill (one app:SHA per CI run), and one old untagged image. */
    static FakeHost ballast() {
        FakeHost host = OnFake.fullHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.disk(10 * OnFake.GB, 7_000_000_000L);
        Instant old = s.now().minus(MONTH);
        s.image().created(old).layer("debris", 2_000_000L); // 3 MB with its own layer
        for (int i = 0; i < 14; i++) {
            s.image("ccci/app:" + String.format("%07x", i * 7919)).created(old).layer("app-" + i, 120_000_000L);
        }
        host.clearRequests();
        return host;
    }

    PruneRun.Settings withState(String until, Path state, String blockedLimit) {
        return new PruneRun.Settings(OnFake.GATES, Until.parse(until), Optional.empty(), ccci.InUse.Settings.NONE, Optional.empty(),
                new PruneShortfall.Settings(Optional.of(state), Until.parse("--blocked-limit", blockedLimit)));
    }

    @Test
    void aDryRunEstimatesThatARealRunWouldNotBeEnoughAndStillExits0() throws Exception {
        FakeHost host = ballast();
        Path state = dir.resolve("state.json");
        PruneRun.Report report = OnFake.prune(host, withState("24h", state, "72h"), true, new PruneRun.Listener() {});
        assertEquals(ExitCodes.OK, report.exitCode());
        String warn = PruneFormat.warning(report).orElseThrow();
        assertTrue(warn.startsWith("WARN estimate: a real run would leave the disk at or above the threshold: it would free about 3.0 MB"), warn);
        assertTrue(warn.contains("% of /var/lib/docker below 80%"), warn);
        JsonNode json = Json.mapper().readTree(PruneFormat.json(report));
        assertEquals("insufficient-predicted", json.path("shortfall").path("kind").asText(), json.toString());
        assertTrue(json.path("shortfall").path("estimate").asBoolean());
        assertTrue(json.path("shortfall").path("wouldFreeBytes").asLong() < json.path("shortfall").path("bytesToFree").asLong());
        assertEquals(List.of(), host.changes());
        assertTrue(Files.notExists(state), "a dry run remembers nothing");
    }

    @Test
    void theDefaultPruneRemovesNothingTaggedWarnsAndExits17() throws Exception {
        FakeHost host = ballast();
        Set<String> tagged = new TreeSet<>(host.imageTags().entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey).toList());
        Path state = dir.resolve("state.json");
        Path metrics = dir.resolve("ci-docker-prune.prom");
        PruneRun.Report report = PruneMetrics.record(metrics, OnFake.prune(host, withState("24h", state, "72h"), false,
                new PruneRun.Listener() {}), host.state().now());
        assertEquals(ExitCodes.INSUFFICIENT, report.exitCode(), PruneFormat.text(report));
        assertTrue(tagged.stream().allMatch(id -> host.state().imageById(id).isPresent()), "nothing tagged is removed");
        JsonNode json = Json.mapper().readTree(PruneFormat.json(report));
        assertEquals("insufficient", json.path("outcome").asText());
        assertTrue(json.path("ran").asBoolean());
        JsonNode shortfall = json.path("shortfall");
        assertEquals("insufficient", shortfall.path("kind").asText());
        assertEquals(json.path("diskAfter").asInt(), shortfall.path("usedPercent").asInt());
        assertEquals(80, shortfall.path("threshold").asInt());
        assertEquals("/var/lib/docker", shortfall.path("path").asText());
        assertEquals(3_000_000L, shortfall.path("reclaimedBytes").asLong());
        assertEquals(14, shortfall.path("kept").path("taggedUnused").path("images").asInt(), shortfall.toString());
        String warning = json.path("warning").asText();
        assertTrue(warning.startsWith("WARN not enough: the disk is still at " + json.path("diskAfter").asInt()
                + "% of /var/lib/docker (threshold 80%) after pruning, which reclaimed 3.0 MB; "), warning);
        assertTrue(warning.contains("the conservative policy keeps 14 tagged images nothing uses (1.7 GB)"), warning);
        String text = PruneFormat.text(report);
        assertEquals(1, text.lines().filter(l -> l.startsWith("WARN ")).count(), text);
        assertTrue(text.contains("summary outcome=insufficient exit=17 "), text);

        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(1.0, m.get("ci_docker_prune_insufficient"));
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"insufficient\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_outcome{outcome=\"pruned\"}"));
        assertEquals(17.0, m.get("ci_docker_prune_exit_code"));
        assertNull(m.get("ci_docker_prune_last_success_timestamp_seconds"), "not a success, and none before it");
        assertNull(m.get("ci_docker_prune_blocked_since_timestamp_seconds"), "not blocked");
        assertEquals((double) host.state().now().getEpochSecond(), m.get("ci_docker_prune_gates_last_allowed_timestamp_seconds"));
        assertEquals("insufficient", PruneState.load(state).state().lastOutcome().orElseThrow());
    }

    @Test
    void aStackBlockingPastTheLimitWarnsAndExits18() throws Exception {
        FakeHost host = ballast();
        FakeState s = host.state();
        s.container(STACK, s.topLevelImages().get(1), "running");
        Instant since = s.now().minus(Duration.ofHours(73));
        Instant allowed = since.minus(Duration.ofDays(2));
        Path state = stateFile(allowed, since);
        Path metrics = dir.resolve("ci-docker-prune.prom");
        PruneRun.Report report = PruneMetrics.record(metrics, OnFake.prune(host, withState("24h", state, "72h"), false,
                new PruneRun.Listener() {}), s.now());
        String text = PruneFormat.text(report);
        assertEquals(ExitCodes.BLOCKED_TOO_LONG, report.exitCode(), text);
        assertTrue(text.startsWith(PruneFormat.NOOP_LINE + ": stack: live run-app stack abcd-1a2b3c_ci_commoninternet_net"), text);
        String warn = text.lines().filter(l -> l.startsWith("WARN ")).findFirst().orElseThrow(() -> new AssertionError(text));
        assertTrue(warn.startsWith("WARN pruning blocked for 3d 1h (since " + since + ", longer than --blocked-limit 72h)"), warn);
        assertTrue(warn.contains("(threshold 80%): blocked by the stack gate: live run-app stack abcd-1a2b3c_ci_commoninternet_net"), warn);
        assertTrue(warn.endsWith("the gates last allowed a run " + allowed), warn);
        assertTrue(text.contains("summary outcome=blocked-too-long exit=18 "), text);
        assertEquals(List.of(), host.changes(), "nothing removed");

        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"blocked-too-long\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_insufficient"));
        assertEquals((double) since.getEpochSecond(), m.get("ci_docker_prune_blocked_since_timestamp_seconds"));
        assertEquals((double) allowed.getEpochSecond(), m.get("ci_docker_prune_gates_last_allowed_timestamp_seconds"));

        JsonNode json = Json.mapper().readTree(PruneFormat.json(OnFake.prune(host, withState("24h", state, "72h"), false,
                new PruneRun.Listener() {})));
        assertEquals("blocked-too-long", json.path("outcome").asText());
        assertEquals("stack", json.path("shortfall").path("blockingGates").get(0).asText());
        assertEquals(since.toString(), json.path("shortfall").path("blockedSince").asText());
        assertEquals(since.toString(), json.path("state").path("blockedSince").asText(), "the clock keeps its start");
    }

    Path stateFile(Instant gatesLastAllowed, Instant blockedSince) throws Exception {
        return Files.writeString(dir.resolve("state.json"), "{\"version\": 1, \"gatesLastAllowed\": \"" + gatesLastAllowed
                + "\", \"blockedSince\": " + (blockedSince == null ? "null" : "\"" + blockedSince + "\"")
                + ", \"lastRun\": null, \"lastOutcome\": \"noop\"}\n");
    }

    @Test
    void withinTheLimitOrBelowTheThresholdABlockedGateIsTheQuietNoOp() throws Exception {
        FakeHost host = ballast();
        FakeState s = host.state();
        s.container(STACK, s.topLevelImages().get(1), "running");
        Path state = stateFile(s.now().minus(Duration.ofDays(90)), s.now().minus(Duration.ofHours(73)));
        PruneRun.Report longer = OnFake.prune(host, withState("24h", state, "4d"), false, new PruneRun.Listener() {});
        assertEquals(PruneRun.Outcome.NOOP, longer.outcome(), PruneFormat.text(longer));
        s.disk(10 * OnFake.GB, 0);
        PruneRun.Report below = OnFake.prune(host, withState("24h", state, "72h"), false, new PruneRun.Listener() {});
        assertEquals(ExitCodes.OK, below.exitCode());
        assertTrue(PruneFormat.warning(below).isEmpty());
        assertEquals(List.of(), below.state().orElseThrow().notes());
        assertTrue(PruneState.load(state).state().blockedSince().isEmpty(), "below the threshold nothing is blocked: the stretch ended");
    }

    @Test
    void theFirstRunACorruptStateAndAnUnwritableOneSaySoInOneLineEach() throws Exception {
        FakeHost host = ballast();
        FakeState s = host.state();
        s.container(STACK, s.topLevelImages().get(1), "running");
        Path state = dir.resolve("state.json");
        PruneRun.Report first = OnFake.prune(host, withState("24h", state, "72h"), false, new PruneRun.Listener() {});
        assertEquals(ExitCodes.OK, first.exitCode());
        assertEquals(List.of("state: no state yet in " + state + ": the blocked clock starts now"), first.state().orElseThrow().notes());
        assertEquals(s.now(), PruneState.load(state).state().blockedSince().orElseThrow());

        Files.writeString(state, "{\"version\": 1, \"blockedSince\": \"last tuesday\"}");
        PruneRun.Report corrupt = OnFake.prune(host, withState("24h", state, "72h"), false, new PruneRun.Listener() {});
        assertEquals(PruneRun.Outcome.NOOP, corrupt.outcome());
        assertEquals(List.of("state: " + state + " is corrupt (blockedSince is not a time: last tuesday): ignored; the blocked clock starts now"),
                corrupt.state().orElseThrow().notes());
        assertTrue(PruneState.load(state) instanceof PruneState.Loaded.Found, "replaced by a good one");

        Path nowhere = dir.resolve("no/such/dir/state.json");
        PruneRun.Report unwritable = OnFake.prune(host, withState("24h", nowhere, "72h"), false, new PruneRun.Listener() {});
        assertEquals(ExitCodes.OK, unwritable.exitCode(), "never breaks the run");
        assertEquals(List.of("state: " + nowhere + " cannot be written: its directory " + nowhere.getParent()
                + " does not exist; not remembered: the blocked clock cannot run"), unwritable.state().orElseThrow().notes());
    }

    // ---------------------------------------------------------------- metrics

    static Map<String, Double> parseWithPromtool(Path file) throws Exception {
        ProcessResult check = new ProcessExecutor(Provision.binary("promtool").toString(), "check", "metrics")
                .redirectInput(Files.newInputStream(file)).readOutput(true).redirectErrorStream(true)
                .timeout(30, TimeUnit.SECONDS).execute();
        assertEquals(0, check.getExitValue(), "promtool check metrics:\n" + check.outputUTF8() + "\n" + Files.readString(file));
        Map<String, Double> samples = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(ci_docker_prune_[a-z_]+(?:\\{[^}]*})?) (\\S+)$").matcher(Files.readString(file));
        while (m.find()) {
            samples.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return samples;
    }

    @Test
    void aPruneWritesParseableMetricsAtomicallyWithMode0644() throws Exception {
        Path metrics = dir.resolve("ci_docker_prune.prom");
        Host h = host();
        PruneRun.Report report = PruneMetrics.record(metrics, OnFake.prune(h.host(), "24h", false), h.host().state().now());
        assertEquals(PruneRun.Outcome.PRUNED, report.outcome(), PruneFormat.text(report));
        assertTrue(PruneFormat.summary(report).endsWith(" metrics=written"), PruneFormat.summary(report));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(metrics)));
        try (var leftovers = Files.list(dir)) {
            assertEquals(1, leftovers.count(), "no temp file left beside it");
        }
        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(0.0, m.get("ci_docker_prune_exit_code"));
        assertEquals((double) h.host().state().now().getEpochSecond(), m.get("ci_docker_prune_last_success_timestamp_seconds"));
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"pruned\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_insufficient"));
        for (String gate : new String[] {"disk", "stack", "convergence"}) {
            assertEquals(1.0, m.get("ci_docker_prune_gate_holds{gate=\"" + gate + "\"}"), gate);
            assertEquals(1.0, m.get("ci_docker_prune_gate_state{gate=\"" + gate + "\",state=\"holds\"}"), gate);
        }
        for (PruneRun.PhaseResult phase : report.phases()) {
            assertEquals((double) phase.removedIds().size(), m.get("ci_docker_prune_removed_objects{phase=\"" + phase.phase().key + "\"}"));
            assertEquals((double) phase.reclaimedBytes(), m.get("ci_docker_prune_reclaimed_bytes{phase=\"" + phase.phase().key + "\"}"));
        }
        assertEquals(303_000_000.0, m.get("ci_docker_prune_reclaimed_bytes{phase=\"images\"}"));
        assertEquals(7.0, m.get("ci_docker_prune_images{when=\"before\"}"));
        assertEquals(4.0, m.get("ci_docker_prune_images{when=\"after\"}"));
        assertEquals(78.0, m.get("ci_docker_prune_disk_used_percent{when=\"after\"}"));
    }

    @Test
    void aFailedRunKeepsTheLastSuccessTimeAndShowsTheGatesFailedClosed() throws Exception {
        Path metrics = dir.resolve("ci_docker_prune.prom");
        FakeHost host = ballast();
        host.state().disk(10 * OnFake.GB, 0);
        Instant first = host.state().now();
        assertEquals(ExitCodes.OK, PruneMetrics.record(metrics, OnFake.prune(host, "24h", false), first).exitCode(), "a no-op succeeds");
        double success = parseWithPromtool(metrics).get("ci_docker_prune_last_success_timestamp_seconds");
        assertEquals((double) first.getEpochSecond(), success);

        host.state().advance(Duration.ofHours(1));
        host.unreachable();
        PruneRun.Report failed = PruneMetrics.record(metrics, OnFake.prune(host, "24h", false), host.state().now());
        assertEquals(ExitCodes.CANNOT_EVALUATE, failed.exitCode(), PruneFormat.text(failed));
        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(11.0, m.get("ci_docker_prune_exit_code"));
        assertEquals(success, m.get("ci_docker_prune_last_success_timestamp_seconds"));
        assertEquals(success + 3600, m.get("ci_docker_prune_last_run_timestamp_seconds"));
        assertEquals(1.0, m.get("ci_docker_prune_gate_state{gate=\"stack\",state=\"unknown\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_gate_holds{gate=\"stack\"}"));
    }

    /** A run that succeeded but could not write its metrics exits 24 and says so; any other outcome keeps its code. */
    @Test
    void metricsThatCannotBeWrittenAfterASuccessAreExit24() throws Exception {
        Host h = host();
        Path metrics = dir.resolve("gone/ci_docker_prune.prom");
        PruneRun.Report report = PruneMetrics.record(metrics, OnFake.prune(h.host(), "24h", false), h.host().state().now());
        String text = PruneFormat.text(report);
        assertEquals(ExitCodes.METRICS_NOT_WRITTEN, report.exitCode(), text);
        assertEquals(PruneRun.Outcome.PRUNED, report.outcome());
        assertTrue(text.contains("\nmetrics not written: --metrics-file '" + metrics + "' "), text);
        assertTrue(PruneFormat.summary(report).startsWith("summary outcome=pruned exit=24 "), text);
        assertTrue(PruneFormat.summary(report).contains(" metrics=failed"), text);
        PruneRun.Report insufficient = PruneMetrics.record(metrics, OnFake.prune(ballast(), "24h", false), h.host().state().now());
        assertEquals(ExitCodes.INSUFFICIENT, insufficient.exitCode(), "exit 17 stays 17");
    }
}
