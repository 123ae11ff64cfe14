//SOURCES ImagePull.java Json.java ReuseProofRun.java Text.java
package ccci;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Optional;

/** Renders reuse-proof: a line per step as it ends, a verdict line and a summary line; or one JSON object. */
public final class ReuseProofFormat {
    private ReuseProofFormat() {}

    public static String stepLine(ReuseProofRun.StepResult r) {
        return String.format(Locale.ROOT, "%-9s %-4s %s", r.step().key, r.ok() ? "pass" : "fail", Text.safe(r.detail()));
    }

    /** A pull still running: "cold-pull ...  15 s: 3/7 layers, 45.2 MB of 120.0 MB". */
    public static String progressLine(ReuseProofRun.Step step, ImagePull.Progress p) {
        return String.format(Locale.ROOT, "%-9s ...  %d s: %s", step.key, p.elapsed().toSeconds(), progressFigures(p));
    }

    static String progressFigures(ImagePull.Progress p) {
        return p.layersDone() + "/" + p.layers() + " layers, " + Text.bytes(p.bytesDone()) + " of " + Text.bytes(p.bytes());
    }

    /** The lines after the steps: notes, the verdict with its figures, and the summary. */
    public static String ending(ReuseProofRun.Report r) {
        Text.Lines out = new Text.Lines();
        for (String note : r.notes()) {
            out.add("note: " + Text.safe(note));
        }
        out.add(Text.safe(verdictLine(r)));
        out.add(summary(r));
        return out.toString();
    }

    static String verdictLine(ReuseProofRun.Report r) {
        return Text.safe(switch (r.outcome()) {
            case PASS -> "PASS: " + r.image() + " stayed in the local store through deploy and teardown, and the warm pull "
                    + "downloaded no layer (" + figures(r) + ")";
            case FAIL -> "FAIL: " + r.reason().orElse("") + (r.cold().isPresent() ? " (" + figures(r) + ")" : "");
            case REFUSED -> "REFUSED: " + r.reason().orElse("");
            case UNREACHABLE -> "FAIL: cannot run the proof: " + r.reason().orElse("");
            case STOPPED_SIGINT, STOPPED_SIGTERM -> "STOPPED: " + r.reason().orElse("");
        });
    }

    private static String figures(ReuseProofRun.Report r) {
        StringBuilder s = new StringBuilder();
        s.append("cold ").append(pullFigures(r.cold()));
        s.append("; warm ").append(pullFigures(r.warm()));
        r.ratio().ifPresent(x -> s.append(String.format(Locale.ROOT, "; warm %.1fx faster", x)));
        r.imageId().ifPresent(id -> s.append("; image ").append(id));
        return s.toString();
    }

    private static String pullFigures(Optional<ImagePull.Result> pull) {
        return pull.map(p -> p.millis() + " ms, " + Text.count(p.layersDownloaded(), "layer") + " downloaded").orElse("not measured");
    }

    /** One journald-friendly line of key=value pairs. */
    public static String summary(ReuseProofRun.Report r) {
        Text.Summary s = new Text.Summary();
        s.put("verdict", r.outcome() == ReuseProofRun.Outcome.PASS ? "pass" : "fail");
        s.put("outcome", r.outcome().key());
        s.put("exit", r.exitCode());
        s.put("image", r.image());
        r.imageId().ifPresent(v -> s.put("image_id", v));
        r.coldMs().ifPresent(v -> s.put("cold_ms", v));
        r.warmMs().ifPresent(v -> s.put("warm_ms", v));
        r.ratio().ifPresent(v -> s.put("ratio", String.format(Locale.ROOT, "%.1f", v)));
        r.cold().ifPresent(c -> {
            s.put("cold_layers_downloaded", c.layersDownloaded());
            s.put("cold_layers_present", c.layersPresent());
        });
        r.warm().ifPresent(w -> {
            s.put("warm_layers_downloaded", w.layersDownloaded());
            s.put("warm_up_to_date", w.upToDate());
        });
        if (r.cold().isPresent()) {
            s.put("retained", r.retained());
        }
        r.service().ifPresent(v -> s.put("service", v));
        s.put("elapsed_ms", r.elapsed().toMillis());
        r.reason().ifPresent(v -> s.put("reason", v));
        return s.toString();
    }

    public static String json(ReuseProofRun.Report r) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("verdict", r.outcome() == ReuseProofRun.Outcome.PASS ? "PASS" : "FAIL");
        root.put("outcome", r.outcome().key());
        root.put("exitCode", r.exitCode());
        putOptional(root, "reason", r.reason());
        root.put("host", r.host());
        root.put("image", r.image());
        root.put("registry", r.registry());
        putOptional(root, "user", r.user());
        putOptional(root, "imageId", r.imageId());
        putLong(root, "coldMs", r.coldMs());
        putLong(root, "warmMs", r.warmMs());
        if (r.ratio().isPresent()) {
            root.put("ratio", Math.round(r.ratio().get() * 10) / 10.0);
        } else {
            root.putNull("ratio");
        }
        putInt(root, "coldLayersDownloaded", r.cold().map(ImagePull.Result::layersDownloaded));
        putInt(root, "coldLayersPresent", r.cold().map(ImagePull.Result::layersPresent));
        putInt(root, "warmLayersDownloaded", r.warm().map(ImagePull.Result::layersDownloaded));
        if (r.warm().isPresent()) {
            root.put("warmUpToDate", r.warm().get().upToDate());
        } else {
            root.putNull("warmUpToDate");
        }
        root.put("retained", r.retained());
        putOptional(root, "service", r.service());
        root.put("imageWasPresent", r.imageWasPresent());
        ArrayNode steps = root.putArray("steps");
        for (ReuseProofRun.StepResult step : r.steps()) {
            ObjectNode node = steps.addObject();
            node.put("name", step.step().key);
            node.put("ok", step.ok());
            node.put("state", step.ok() ? "pass" : "fail");
            node.put("detail", step.detail());
            node.put("ms", step.elapsed().toMillis());
        }
        ArrayNode notes = root.putArray("notes");
        r.notes().forEach(notes::add);
        root.put("elapsedMs", r.elapsed().toMillis());
        return root.toPrettyString() + System.lineSeparator();
    }

    private static void putOptional(ObjectNode node, String key, Optional<String> value) {
        value.ifPresentOrElse(v -> node.put(key, v), () -> node.putNull(key));
    }

    private static void putLong(ObjectNode node, String key, Optional<Long> value) {
        value.ifPresentOrElse(v -> node.put(key, v), () -> node.putNull(key));
    }

    private static void putInt(ObjectNode node, String key, Optional<Integer> value) {
        value.ifPresentOrElse(v -> node.put(key, v), () -> node.putNull(key));
    }
}
