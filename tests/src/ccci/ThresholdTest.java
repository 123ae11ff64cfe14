package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.GatePolicy.GateResult;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one "at or above" decision with --min-free (lib/Threshold.java): either trigger reaches it,
 * the bytes that must go cover both, the disk gate says which decided, and sizes are Docker's
 * decimal units.
 */
class ThresholdTest {
    static final long MB = 1_000_000;
    static final long GB = 1_000_000_000L;
    static final Path ROOT = Path.of("/var/lib/docker");

    static Disk disk(long usedMb, long availableMb) {
        return new Disk(ROOT, usedMb * MB, availableMb * MB);
    }

    @Test
    void eitherTriggerReachesTheThreshold() {
        Threshold t = new Threshold(80, 500 * MB);
        assertTrue(t.reachedBy(disk(800, 200)), "80% reaches 80%");
        assertTrue(t.reachedBy(disk(600, 400)), "60%, but 400 MB < 500 MB free");
        assertFalse(t.reachedBy(disk(500, 500)), "50% and exactly 500 MB free: below");
        assertFalse(new Threshold(80).reachedBy(disk(600, 400)), "without a floor, only the percent");
        assertEquals(java.util.Optional.of("percent"), t.trigger(disk(900, 100)), "both: the percent is named");
        assertEquals(java.util.Optional.of("min-free"), t.trigger(disk(600, 400)));
        assertEquals(java.util.Optional.empty(), t.trigger(disk(500, 500)));
    }

    @Test
    void bytesToGoBelowCoverBothTriggers() {
        Threshold t = new Threshold(80, 500 * MB);
        assertEquals(100 * MB, t.bytesToGoBelow(disk(600, 400)), "the floor alone: 100 MB");
        assertEquals(110 * MB, new Threshold(80, 150 * MB).bytesToGoBelow(disk(900, 100)),
                "the percent needs 110 MB (to 790 MB, 79%), the floor 50 MB");
        Threshold floor = new Threshold(80, 450 * MB);
        assertEquals(350 * MB, floor.bytesToGoBelow(disk(900, 100)), "the floor needs more than the percent");
        assertEquals(0, t.bytesToGoBelow(disk(500, 500)));
        for (long used = 0; used <= 1000; used += 7) {
            Disk d = disk(used, 1000 - used);
            assertFalse(t.reachedBy(d.freeing(t.bytesToGoBelow(d))), "freeing what it says brings " + used + " MB below");
            long need = t.bytesToGoBelow(d);
            if (need > 0) {
                assertTrue(t.reachedBy(d.freeing(need - 1)), "and one byte less does not, at " + used + " MB");
            }
        }
    }

    @Test
    void theGateSaysWhichTriggerDecided() {
        GateResult byFloor = GatePolicy.diskGate(new Threshold(80, 500 * MB), Reading.ok(List.of(disk(600, 400))));
        assertEquals(GateResult.State.HOLDS, byFloor.state());
        assertEquals("400.0 MB available on /var/lib/docker < --min-free 500.0 MB (60% of /var/lib/docker < 80%)", byFloor.detail());
        assertEquals("min-free", byFloor.figures().get("trigger"));
        assertEquals(500 * MB, byFloor.figures().get("minFreeBytes"));

        GateResult byPercent = GatePolicy.diskGate(new Threshold(80, 500 * MB), Reading.ok(List.of(disk(850, 150))));
        assertEquals("85% of /var/lib/docker \u2265 80%", byPercent.detail());
        assertEquals("percent", byPercent.figures().get("trigger"));

        GateResult below = GatePolicy.diskGate(new Threshold(80, 500 * MB), Reading.ok(List.of(disk(400, 600))));
        assertEquals(GateResult.State.BLOCKS, below.state());
        assertEquals("40% of /var/lib/docker < 80%, 600.0 MB available on /var/lib/docker \u2265 --min-free 500.0 MB", below.detail());

        // two file systems: the one short of free bytes decides when none reaches the percent
        Disk containerd = new Disk(Path.of("/var/lib/containerd"), 300 * MB, 100 * MB);
        GateResult two = GatePolicy.diskGate(new Threshold(80, 200 * MB), Reading.ok(List.of(disk(700, 300), containerd)));
        assertEquals(GateResult.State.HOLDS, two.state());
        assertTrue(two.detail().startsWith("100.0 MB available on /var/lib/containerd < --min-free 200.0 MB (75% of /var/lib/containerd < 80%)"
                + " (the least free; also /var/lib/docker 70%)"), two.detail());
    }

    @Test
    void sizesAreDockersDecimalUnits() {
        assertEquals(5 * GB, Threshold.parseBytes("--min-free", "5G"));
        assertEquals(5 * GB, Threshold.parseBytes("--min-free", "5GB"));
        assertEquals(5 * GB, Threshold.parseBytes("--min-free", "5g"));
        assertEquals(500 * MB, Threshold.parseBytes("--min-free", "500M"));
        assertEquals(1_500_000_000L, Threshold.parseBytes("--min-free", "1.5G"));
        assertEquals(2_000L, Threshold.parseBytes("--min-free", "2k"));
        assertEquals(123L, Threshold.parseBytes("--min-free", "123"));
        assertEquals(2_000_000_000_000L, Threshold.parseBytes("--min-free", "2T"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"5Gi", "5GiB", "five", "", "-1G", "0", "0.0000001k", "1e9", "5 GB extra", "99999999P"})
    void otherSizesAreRefusedQuotingThem(String text) {
        BadInput e = assertThrows(BadInput.class, () -> Threshold.parseBytes("--min-free", text));
        assertTrue(e.getMessage().startsWith("--min-free '" + text + "'"), e.getMessage());
    }

    @Test
    void theCommandLineTakesIt() {
        GatePolicy.Settings settings = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, List.of(), null, null, "5G");
        assertEquals(new Threshold(80, 5 * GB), settings.threshold());
        assertEquals(0, GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null).threshold().minFreeBytes());
    }
}
