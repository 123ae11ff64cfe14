package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The verdict alone, without Docker. */
class ReuseProofVerdictTest {
    static final Optional<String> ID = Optional.of("sha256:" + "1".repeat(64));
    static final Optional<Boolean> YES = Optional.of(true);
    static final Optional<Boolean> NO = Optional.of(false);

    /** Every step ran and showed reuse; each test changes one fact. */
    static ReuseProofRun.Facts healthy() {
        return new ReuseProofRun.Facts(Optional.empty(), ID, YES, NO, true, ID, NO, Optional.of(0), YES);
    }

    static ReuseProofRun.Verdict judge(ReuseProofRun.Facts f) {
        return ReuseProofRun.judge(f);
    }

    @Test
    void passOnlyWhenTheColdDeployPulledPruneKeptItTheRedeployPulledNothingAndTheWarmPullWasUpToDate() {
        var pass = judge(healthy());
        assertTrue(pass.pass());
        assertTrue(pass.retained());
        assertTrue(pass.reason().isEmpty());
    }

    @Test
    void aColdDeployWithoutAPullProvesNothing() {
        var f = healthy();
        var v = judge(new ReuseProofRun.Facts(f.failure(), ID, NO, NO, true, ID, NO, Optional.of(0), YES));
        assertFalse(v.pass());
        assertEquals("the cold deploy pulled nothing (no pull event), so the redeploy's 'no pull' would prove nothing",
                v.reason().orElseThrow());
    }

    @Test
    void pruneRemovingTheImageFailsAndSaysSoBesideTheLostImage() {
        var v = judge(new ReuseProofRun.Facts(Optional.empty(), ID, YES, YES, true, Optional.empty(), YES, Optional.of(0), YES));
        assertFalse(v.pass());
        assertFalse(v.retained());
        assertEquals("the toolkit's prune removed the image: the cache a redeploy needs was lost; "
                + "the image was gone after teardown and prune: the local store did not keep it; "
                + "the redeploy pulled the image again: the engine did not find it here by its digest", v.reason().orElseThrow());
    }

    @Test
    void aRedeployThatPullsFails() {
        var v = judge(new ReuseProofRun.Facts(Optional.empty(), ID, YES, NO, true, ID, YES, Optional.of(0), YES));
        assertFalse(v.pass());
        assertTrue(v.retained());
        assertEquals("the redeploy pulled the image again: the engine did not find it here by its digest", v.reason().orElseThrow());
    }

    @Test
    void aWarmDownloadOrNoUpToDateFails() {
        var downloaded = judge(new ReuseProofRun.Facts(Optional.empty(), ID, YES, NO, true, ID, NO, Optional.of(2), NO));
        assertFalse(downloaded.pass());
        assertEquals("the warm pull downloaded 2 layers: local layers were not reused; the warm pull did not report the image up to date",
                downloaded.reason().orElseThrow());
        var notUpToDate = judge(new ReuseProofRun.Facts(Optional.empty(), ID, YES, NO, true, ID, NO, Optional.of(0), NO));
        assertEquals("the warm pull did not report the image up to date", notUpToDate.reason().orElseThrow());
    }

    @Test
    void anImageChangedAfterPruneIsNotRetained() {
        var changed = judge(new ReuseProofRun.Facts(Optional.empty(), ID, YES, NO, true, Optional.of("sha256:" + "2".repeat(64)), NO,
                Optional.of(0), YES));
        assertFalse(changed.retained());
        assertEquals("the image ID changed across teardown and prune (111111111111 -> 222222222222)", changed.reason().orElseThrow());
    }

    @Test
    void aStepThatCouldNotCompleteIsTheReasonAndIsNotDoubled() {
        var failed = judge(new ReuseProofRun.Facts(Optional.of("prune: prune did not run: the gates do not hold"), ID, YES,
                Optional.empty(), false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        assertFalse(failed.pass());
        assertFalse(failed.retained());
        assertEquals("prune: prune did not run: the gates do not hold", failed.reason().orElseThrow());
        var warmFailed = judge(new ReuseProofRun.Facts(Optional.of("warm-pull: connection refused"), ID, YES, NO, true, ID, NO,
                Optional.empty(), Optional.empty()));
        assertTrue(warmFailed.retained());
        assertEquals("warm-pull: connection refused", warmFailed.reason().orElseThrow());
    }

    @Test
    void missingMeasurementsNeverPass() {
        var nothing = judge(new ReuseProofRun.Facts(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        assertFalse(nothing.pass());
        assertEquals("retention was not checked; no redeploy was measured; no warm pull was measured", nothing.reason().orElseThrow());
    }
}
