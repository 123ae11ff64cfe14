package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.GatePolicy.Verdict;
import ccci.PruneShortfall.Blocked;
import ccci.PruneShortfall.Shortfall;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When the conservative prune is not enough, as pure decisions: the blocked clock, what must go (the runs: ccci.scenario.PruneReportTest). */
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
        return PruneShortfall.blocked(loaded, verdict, new Threshold(80), NOW, LIMIT);
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

    // ---------------------------------------------------------------- what must go

    @ParameterizedTest
    @CsvSource({
        // used, available, threshold: df's Use% (rounded up) must end below the threshold
        "80, 20, 80, 1", "79, 21, 80, 0", "91, 9, 80, 12", "100, 0, 1, 100", "7901, 2099, 80, 0"})
    void whatMustGoBringsDfsUsePercentJustBelowTheThreshold(long used, long available, int threshold, long expectedPercentPoints) {
        Disk disk = new Disk(Path.of("/"), used * GB, available * GB);
        long free = new Threshold(threshold).bytesToGoBelow(disk);
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
}
