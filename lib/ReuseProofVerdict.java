package ccci;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The pure verdict of reuse-proof. PASS only when every step ran, the image kept its ID through
 * deploy and teardown (retained), and the warm pull downloaded no layer and said "up to date".
 */
public final class ReuseProofVerdict {
    private ReuseProofVerdict() {}

    /**
     * What the run measured.
     *
     * @param failure              a step that could not complete, in one line (empty when all ran)
     * @param coldImageId          the image ID right after the cold pull
     * @param retainedChecked      whether the image was looked up after teardown
     * @param imageIdAfterTeardown the image ID then (empty: the image was gone, or not looked up)
     * @param warmLayersDownloaded layers the warm pull downloaded (empty: no warm pull)
     * @param warmUpToDate         whether the warm pull reported "Image is up to date" (empty: no warm pull)
     */
    public record Facts(Optional<String> failure, Optional<String> coldImageId, boolean retainedChecked,
                        Optional<String> imageIdAfterTeardown,
                        Optional<Integer> warmLayersDownloaded, Optional<Boolean> warmUpToDate) {}

    public record Verdict(boolean pass, boolean retained, Optional<String> reason) {}

    public static Verdict judge(Facts f) {
        boolean retained = f.retainedChecked() && f.coldImageId().isPresent()
                && f.coldImageId().equals(f.imageIdAfterTeardown());
        List<String> reasons = new ArrayList<>();
        f.failure().ifPresent(reasons::add);
        if (f.retainedChecked() && !retained) {
            reasons.add(f.imageIdAfterTeardown().isEmpty()
                    ? "the image was gone after teardown: the local store did not keep it"
                    : "the image ID changed across teardown (" + f.coldImageId().map(LocalImage::shortId).orElse("?") + " -> "
                            + LocalImage.shortId(f.imageIdAfterTeardown().get()) + ")");
        }
        if (f.failure().isEmpty() && !f.retainedChecked()) {
            reasons.add("retention was not checked");
        }
        if (f.warmLayersDownloaded().isPresent()) {
            int n = f.warmLayersDownloaded().get();
            if (n > 0) {
                reasons.add("the warm pull downloaded " + n + " layer" + (n == 1 ? "" : "s") + ": local layers were not reused");
            }
            if (!f.warmUpToDate().orElse(false)) {
                reasons.add("the warm pull did not report the image up to date");
            }
        } else if (f.failure().isEmpty()) {
            reasons.add("no warm pull was measured");
        }
        return new Verdict(reasons.isEmpty(), retained,
                reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons)));
    }
}
