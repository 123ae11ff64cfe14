package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The verdict alone, without Docker. */
class ReuseProofVerdictTest {
    static final Optional<String> ID = Optional.of("sha256:" + "1".repeat(64));

    static ReuseProofRun.Verdict judge(Optional<String> failure, boolean checked, Optional<String> after,
                                           Optional<Integer> warmDownloaded, Optional<Boolean> upToDate) {
        return ReuseProofRun.judge(new ReuseProofRun.Facts(failure, ID, checked, after, warmDownloaded, upToDate));
    }

    @Test
    void passOnlyWhenRetainedAndTheWarmPullDownloadedNothingAndWasUpToDate() {
        var pass = judge(Optional.empty(), true, ID, Optional.of(0), Optional.of(true));
        assertTrue(pass.pass());
        assertTrue(pass.retained());
        assertTrue(pass.reason().isEmpty());
    }

    @Test
    void aWarmDownloadOrNoUpToDateFails() {
        var downloaded = judge(Optional.empty(), true, ID, Optional.of(2), Optional.of(false));
        assertFalse(downloaded.pass());
        assertTrue(downloaded.retained());
        assertEquals("the warm pull downloaded 2 layers: local layers were not reused; the warm pull did not report the image up to date",
                downloaded.reason().orElseThrow());
        var notUpToDate = judge(Optional.empty(), true, ID, Optional.of(0), Optional.of(false));
        assertEquals("the warm pull did not report the image up to date", notUpToDate.reason().orElseThrow());
    }

    @Test
    void anImageGoneOrChangedAfterTeardownIsNotRetained() {
        var gone = judge(Optional.empty(), true, Optional.empty(), Optional.of(1), Optional.of(false));
        assertFalse(gone.pass());
        assertFalse(gone.retained());
        assertTrue(gone.reason().orElseThrow().startsWith("the image was gone after teardown"), gone.reason().get());
        var changed = judge(Optional.empty(), true, Optional.of("sha256:" + "2".repeat(64)), Optional.of(0), Optional.of(true));
        assertEquals("the image ID changed across teardown (111111111111 -> 222222222222)", changed.reason().orElseThrow());
    }

    @Test
    void aStepThatCouldNotCompleteIsTheReasonAndIsNotDoubled() {
        var failed = judge(Optional.of("deploy: service did not start"), false, Optional.empty(), Optional.empty(), Optional.empty());
        assertFalse(failed.pass());
        assertFalse(failed.retained());
        assertEquals("deploy: service did not start", failed.reason().orElseThrow());
        var warmFailed = judge(Optional.of("warm-pull: connection refused"), true, ID, Optional.empty(), Optional.empty());
        assertTrue(warmFailed.retained());
        assertEquals("warm-pull: connection refused", warmFailed.reason().orElseThrow());
    }

    @Test
    void missingMeasurementsNeverPass() {
        var nothing = judge(Optional.empty(), false, Optional.empty(), Optional.empty(), Optional.empty());
        assertFalse(nothing.pass());
        assertEquals("retention was not checked; no warm pull was measured", nothing.reason().orElseThrow());
    }
}
