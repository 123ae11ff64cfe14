package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Plan;
import ccci.Until;
import ccci.PruneShortfall.Blocked;
import ccci.PruneShortfall.Shortfall;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When the conservative prune is not enough, as pure decisions (the engine tests: PruneShortfallEngineTest). */
class PruneShortfallTest {
    static final GatePolicy.Settings DEFAULTS = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null);
    static final Instant NOW = Instant.parse("2026-06-10T00:00:00Z");
    static final Until LIMIT = Until.parse("--blocked-limit", "72h");
    static final Until DAY = Until.parse("24h");
    static final long GB = 1L << 30;
    static final Path STATE = Path.of("/var/lib/cc-ci/state.json");

    static Verdict verdict(int usedPercent, boolean stackLive) {
        HostSnapshot host = Hosts.manager(List.of(Hosts.service(stackLive ? "abcd-1a2b3c_ci_commoninternet_net_app" : "web", 1, 1)),
                List.of());
        return GatePolicy.evaluate(DEFAULTS, Reading.ok(host), Reading.ok(List.of(disk(usedPercent))));
    }

    static Disk disk(int usedPercent) {
        return new Disk(Path.of("/var/lib/docker"), usedPercent * GB, (100 - usedPercent) * GB);
    }

    static PruneState.Loaded state(Instant lastAllowed, Instant blockedSince) {
        return new PruneState.Loaded.Found(new PruneState(Optional.ofNullable(lastAllowed), Optional.ofNullable(blockedSince),
                Optional.of(NOW.minus(Duration.ofDays(1))), Optional.of("noop")));
    }

    static Blocked blocked(PruneState.Loaded loaded, Verdict verdict) {
        return PruneShortfall.blocked(loaded, verdict, 80, NOW, LIMIT);
    }

    // ---------------------------------------------------------------- the blocked clock

    @Test
    void overTheThresholdAGateBlockingLongerThanTheLimitIsTooLong() {
        Instant since = NOW.minus(Duration.ofHours(73));
        Instant allowed = NOW.minus(Duration.ofDays(10));
        Blocked b = blocked(state(allowed, since), verdict(91, true));
        Shortfall.BlockedTooLong tooLong = (Shortfall.BlockedTooLong) b.tooLong().orElseThrow();
        assertEquals(List.of("stack"), tooLong.blocking().stream().map(GatePolicy.GateResult::name).toList());
        assertEquals(since, tooLong.since());
        assertEquals(Duration.ofHours(73), tooLong.blockedFor());
        assertEquals(Optional.of(allowed), tooLong.gatesLastAllowed());
        assertEquals(Optional.of(since), b.next().blockedSince(), "the clock keeps its start");
        assertEquals(Optional.of(allowed), b.next().gatesLastAllowed());
        assertEquals(List.of(), b.notes());
    }

    @Test
    void withinTheLimitTheClockRunsQuietly() {
        Instant since = NOW.minus(Duration.ofHours(71));
        Blocked b = blocked(state(null, since), verdict(91, true));
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.of(since), b.next().blockedSince());
        assertEquals(List.of(), b.notes());
    }

    @Test
    void exactlyTheLimitIsNotLongerThanIt() {
        assertTrue(blocked(state(null, NOW.minus(Duration.ofHours(72))), verdict(91, true)).tooLong().isEmpty());
        assertTrue(blocked(state(null, NOW.minus(Duration.ofHours(72)).minusSeconds(1)), verdict(91, true)).tooLong().isPresent());
    }

    /** The alarm that counting from "last allowed" alone would raise: a disk that was fine for months and just filled. */
    @Test
    void theFirstBlockedDayOverTheThresholdStartsTheClockEvenIfTheGatesLastAllowedLongAgo() {
        Blocked b = blocked(state(NOW.minus(Duration.ofDays(90)), null), verdict(91, true));
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.of(NOW), b.next().blockedSince());
        assertEquals(List.of(), b.notes(), "a known state: nothing to say");
    }

    @Test
    void belowTheThresholdABlockedGateIsTheNormalNoOpAndEndsTheStretch() {
        Blocked b = blocked(state(null, NOW.minus(Duration.ofDays(30))), verdict(50, true));
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.empty(), b.next().blockedSince());
    }

    @Test
    void allGatesHoldingRecordsTheTimeAndEndsTheStretch() {
        Blocked b = blocked(state(NOW.minus(Duration.ofDays(9)), NOW.minus(Duration.ofDays(8))), verdict(91, false));
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.of(NOW), b.next().gatesLastAllowed());
        assertEquals(Optional.empty(), b.next().blockedSince());
    }

    @Test
    void theFirstRunEverStartsTheClockNowAndSaysSo() {
        Blocked b = blocked(new PruneState.Loaded.Missing(STATE), verdict(91, true));
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.of(NOW), b.next().blockedSince());
        assertEquals(List.of("state: no state yet in " + STATE + ": the blocked clock starts now"), b.notes());
    }

    @Test
    void noStateBelowTheThresholdIsNothingToSay() {
        assertEquals(List.of(), blocked(new PruneState.Loaded.Missing(STATE), verdict(50, true)).notes());
    }

    @Test
    void anUnusableStateIsIgnoredInOneLine() {
        PruneState.Loaded corrupt = new PruneState.Loaded.Unusable(STATE + " is corrupt (not a JSON object)");
        Blocked over = blocked(corrupt, verdict(91, true));
        assertTrue(over.tooLong().isEmpty(), "never blocks and never raises the alarm by itself");
        assertEquals(Optional.of(NOW), over.next().blockedSince());
        assertEquals(List.of("state: " + STATE + " is corrupt (not a JSON object): ignored; the blocked clock starts now"), over.notes());
        assertEquals(List.of("state: " + STATE + " is corrupt (not a JSON object): ignored"), blocked(corrupt, verdict(50, true)).notes());
    }

    @Test
    void aGateThatCannotBeEvaluatedStartsNoClock() {
        Verdict unknown = GatePolicy.evaluate(DEFAULTS, Reading.failed("engine unreachable"), Reading.ok(List.of(disk(91))));
        Blocked b = blocked(new PruneState.Loaded.Missing(STATE), unknown);
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.empty(), b.next().blockedSince());
        assertEquals(List.of(), b.notes(), "exit 11 has its own line");
    }

    @Test
    void aGateThatCannotBeEvaluatedKeepsTheClockRunningButDecidesNothing() {
        Verdict unknown = GatePolicy.evaluate(DEFAULTS, Reading.failed("engine unreachable"), Reading.ok(List.of(disk(91))));
        Blocked b = blocked(state(null, NOW.minus(Duration.ofDays(5))), unknown);
        assertTrue(b.tooLong().isEmpty(), "exit 11 says it: the gate cannot be evaluated");
        assertEquals(Optional.of(NOW.minus(Duration.ofDays(5))), b.next().blockedSince());
    }

    @Test
    void anUnmeasuredDiskChangesNothing() {
        Verdict noDisk = GatePolicy.evaluate(DEFAULTS, Reading.failed("engine unreachable"), Reading.failed("engine unreachable"));
        Blocked b = blocked(state(null, NOW.minus(Duration.ofDays(5))), noDisk);
        assertTrue(b.tooLong().isEmpty());
        assertEquals(Optional.of(NOW.minus(Duration.ofDays(5))), b.next().blockedSince());
    }

    // ---------------------------------------------------------------- insufficient

    @ParameterizedTest
    @CsvSource({
        // used, available, threshold: df's Use% (rounded up) must end below the threshold
        "80, 20, 80, 1", "79, 21, 80, 0", "91, 9, 80, 12", "100, 0, 1, 100", "7901, 2099, 80, 0"})
    void bytesToFreeBringsDfsUsePercentJustBelowTheThreshold(long used, long available, int threshold, long expectedPercentPoints) {
        Disk disk = new Disk(Path.of("/"), used * GB, available * GB);
        long free = PruneShortfall.bytesToFree(disk, threshold);
        if (free > 0) {
            assertTrue(new Disk(Path.of("/"), used * GB - free, available * GB + free).usedPercent() < threshold);
            assertTrue(new Disk(Path.of("/"), used * GB - free + 1, available * GB + free - 1).usedPercent() >= threshold,
                    "not one byte more than needed");
        } else {
            assertTrue(disk.usedPercent() < threshold);
        }
        long total = (used + available) * GB;
        assertEquals(expectedPercentPoints, Math.round(free * 100.0 / total));
    }

    @Test
    void stillAtOrAboveTheThresholdAfterThePhasesIsInsufficient() {
        PruneShortfall.Kept kept = PruneShortfall.kept(PrunePolicyTest.facts(), plan(), DAY, Set.of());
        assertTrue(PruneShortfall.afterPhases(disk(80), 80, 0, kept).isPresent());
        assertTrue(PruneShortfall.afterPhases(disk(79), 80, 0, kept).isEmpty());
    }

    static Plan plan() {
        return PrunePolicy.plan(PrunePolicyTest.facts(), PrunePolicyTest.NOW, DAY);
    }

    @Test
    void keptCountsTaggedImagesNothingUsesApartFromImagesInUse() {
        Instant old = NOW.minus(Duration.ofDays(30));
        PruneFacts facts = new PruneFacts(
                List.of(new PruneFacts.ContainerRow("c-run", "web", "sha256:used", "running", old),
                        new PruneFacts.ContainerRow("c-old", "old-job", "sha256:freed", "exited", old)),
                List.of(new PruneFacts.ImageRow("sha256:used", List.of("web:1"), old, 10),
                        new PruneFacts.ImageRow("sha256:freed", List.of("job:1"), old, 20),
                        new PruneFacts.ImageRow("sha256:idle", List.of("app:abc"), old, 40),
                        new PruneFacts.ImageRow("sha256:young", List.of(), NOW.minus(Duration.ofHours(1)), 80),
                        new PruneFacts.ImageRow("sha256:gone", List.of(), old, 160)),
                List.of(), List.of(), java.util.Set.of());
        Plan plan = PrunePolicy.plan(facts, NOW, DAY);
        PruneShortfall.Kept kept = PruneShortfall.kept(facts, plan, DAY, Set.of());
        // job:1's only container is removed by phase 1, so nothing uses it after the phases
        assertEquals(new PruneShortfall.Kept.Count(2, 60), kept.taggedUnused());
        assertEquals(new PruneShortfall.Kept.Count(1, 10), kept.inUse());
        assertEquals(new PruneShortfall.Kept.Count(1, 80), kept.youngDangling(), "the old dangling one is removed, not kept");
        assertEquals("the conservative policy keeps 2 tagged images nothing uses (60 B listed), 1 image in use by containers (10 B listed), "
                + "1 dangling image younger than 24h (80 B listed)", PruneFormat.kept(kept));
    }

    @Test
    void aDryRunPredictsInsufficientWhenWhatItWouldFreeIsLessThanWhatMustGo() {
        Instant old = NOW.minus(Duration.ofDays(30));
        PruneFacts facts = new PruneFacts(List.of(),
                List.of(new PruneFacts.ImageRow("sha256:a", List.of(), old, 5 * GB),
                        new PruneFacts.ImageRow("sha256:b", List.of("app:1"), old, 50 * GB)),
                List.of(), List.of(), java.util.Set.of());
        Plan plan = PrunePolicy.plan(facts, NOW, DAY);
        PruneShortfall.Kept kept = PruneShortfall.kept(facts, plan, DAY, Set.of());
        Shortfall.PredictedInsufficient p = (Shortfall.PredictedInsufficient)
                PruneShortfall.predict(Optional.of(disk(91)), 80, plan, 0, kept).orElseThrow();
        assertEquals(5 * GB, p.wouldFreeBytes());
        assertEquals(12 * GB, p.bytesToFree());
        assertTrue(PruneFormat.warning(p).startsWith("WARN estimate: a real run would leave the disk at or above the threshold"),
                PruneFormat.warning(p));
        assertTrue(PruneShortfall.predict(Optional.of(disk(85)), 80, plan, 0, kept).isPresent(), "85% needs 6 GB to show 79%");
        assertTrue(PruneShortfall.predict(Optional.of(disk(84)), 80, plan, 0, kept).isEmpty(), "84% needs exactly the 5 GB");
    }

    @Test
    void aDryRunCountsWhatEvictionWouldFreeAndWhatItWouldEvictIsNotKept() {
        Instant old = NOW.minus(Duration.ofDays(30));
        PruneFacts facts = new PruneFacts(List.of(),
                List.of(new PruneFacts.ImageRow("sha256:a", List.of(), old, 5 * GB),
                        new PruneFacts.ImageRow("sha256:b", List.of("app:1"), old, 50 * GB)),
                List.of(), List.of(), java.util.Set.of());
        Plan plan = PrunePolicy.plan(facts, NOW, DAY);
        PruneShortfall.Kept evicted = PruneShortfall.kept(facts, plan, DAY, Set.of("sha256:b"));
        assertEquals(new PruneShortfall.Kept.Count(0, 0), evicted.taggedUnused(), "an image eviction removes is not kept");
        assertTrue(PruneShortfall.predict(Optional.of(disk(91)), 80, plan, 7 * GB, evicted).isEmpty(),
                "5 GB from the phases and 7 GB from eviction are the 12 GB that must go");
        Shortfall.PredictedInsufficient p = (Shortfall.PredictedInsufficient)
                PruneShortfall.predict(Optional.of(disk(91)), 80, plan, 6 * GB, evicted).orElseThrow();
        assertEquals(11 * GB, p.wouldFreeBytes());
        assertEquals(6 * GB, p.evictionBytes());
        assertTrue(PruneFormat.warning(p).contains("; eviction " + Text.bytes(6 * GB) + " of it)"), PruneFormat.warning(p));
    }

    @Test
    void belowTheThresholdNothingIsPredicted() {
        assertFalse(PruneShortfall.predict(Optional.of(disk(50)), 80, plan(), 0, PruneShortfall.kept(PrunePolicyTest.facts(), plan(), DAY, Set.of())).isPresent());
        assertFalse(PruneShortfall.predict(Optional.empty(), 80, plan(), 0, PruneShortfall.kept(PrunePolicyTest.facts(), plan(), DAY, Set.of())).isPresent());
    }
}
