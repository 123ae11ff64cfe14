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

    /** A pull still running: "warm-pull ...  15 s: 3/7 layers, 45.2 MB of 120.0 MB". */
    public static String progressLine(ReuseProofRun.Step step, ImagePull.Progress p) {
        return String.format(Locale.ROOT, "%-9s ...  %d s: %s", step.key, p.elapsed().toSeconds(), progressFigures(p));
    }

    static String progressFigures(ImagePull.Progress p) {
        return p.layersDone() + "/" + p.layers() + " layers, " + Text.bytes(p.bytesDone()) + " of " + Text.bytes(p.bytes());
    }

    /** A deploy still waiting for its task: "deploy    ...  10 s: task preparing" (the node pulls the image while preparing). */
    public static String deployProgressLine(ReuseProofRun.Step step, String task, java.time.Duration elapsed) {
        return String.format(Locale.ROOT, "%-9s ...  %d s: %s", step.key, elapsed.toSeconds(), Text.safe(task));
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
            case PASS -> "PASS: " + r.image() + " came by digest with the deploy, stayed through teardown and the toolkit's prune, "
                    + "and the redeploy pulled nothing (" + figures(r) + ")";
            case FAIL -> "FAIL: " + r.reason().orElse("") + (r.cold().isPresent() ? " (" + figures(r) + ")" : "");
            case REFUSED -> "REFUSED: " + r.reason().orElse("");
            case UNREACHABLE -> "FAIL: cannot run the proof: " + r.reason().orElse("");
            case STOPPED_SIGINT, STOPPED_SIGTERM -> "STOPPED: " + r.reason().orElse("");
        });
    }

    private static String figures(ReuseProofRun.Report r) {
        StringBuilder s = new StringBuilder();
        s.append("cold deploy ").append(r.coldMs().map(ms -> ms + " ms").orElse("not measured"));
        s.append("; redeploy ").append(r.redeployMs().map(ms -> ms + " ms").orElse("not measured"));
        r.ratio().ifPresent(x -> s.append(String.format(Locale.ROOT, " (%.1fx faster)", x)));
        s.append("; warm pull ").append(r.warm().map(p -> p.millis() + " ms, " + Text.count(p.layersDownloaded(), "layer")
                + " downloaded").orElse("not measured"));
        r.imageId().ifPresent(id -> s.append("; image ").append(id));
        return s.toString();
    }

    /** One journald-friendly line of key=value pairs. */
    public static String summary(ReuseProofRun.Report r) {
        Text.Summary s = new Text.Summary();
        s.put("verdict", r.outcome() == ReuseProofRun.Outcome.PASS ? "pass" : "fail");
        s.put("outcome", r.outcome().key());
        s.put("exit", r.exitCode());
        s.put("image", r.image());
        r.imageId().ifPresent(v -> s.put("image_id", v));
        r.cold().ifPresent(c -> {
            s.put("cold_deploy_ms", c.millis());
            s.put("cold_pulled", c.pulled());
        });
        r.prune().ifPresent(p -> {
            s.put("prune", p.outcome());
            p.why().ifPresent(w -> s.put("prune_kept", w.name().toLowerCase(Locale.ROOT)));
            s.put("prune_removed_image", p.removedProofImage());
        });
        if (r.prune().isPresent()) {
            s.put("retained", r.retained());
        }
        r.redeploy().ifPresent(d -> {
            s.put("redeploy_ms", d.millis());
            s.put("redeploy_pulled", d.pulled());
        });
        r.ratio().ifPresent(v -> s.put("ratio", String.format(Locale.ROOT, "%.1f", v)));
        r.warm().ifPresent(w -> {
            s.put("warm_pull_ms", w.millis());
            s.put("warm_layers_downloaded", w.layersDownloaded());
            s.put("warm_up_to_date", w.upToDate());
        });
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
        putOptional(root, "digest", r.digest());
        putOptional(root, "imageId", r.imageId());
        deployed(root, "coldDeploy", r.cold());
        if (r.prune().isPresent()) {
            ReuseProofRun.PruneDecision p = r.prune().get();
            ObjectNode prune = root.putObject("prune");
            prune.put("outcome", p.outcome());
            prune.put("containersRemoved", p.containers());
            prune.put("imagesRemoved", p.images());
            prune.put("buildCacheRemoved", p.buildCache());
            putOptional(prune, "imageKeptAs", p.why().map(w -> w.name().toLowerCase(Locale.ROOT)));
            prune.put("imageReason", p.reason());
            prune.put("removedImage", p.removedProofImage());
        } else {
            root.putNull("prune");
        }
        root.put("retained", r.retained());
        deployed(root, "redeploy", r.redeploy());
        putLong(root, "coldDeployMs", r.coldMs());
        putLong(root, "redeployMs", r.redeployMs());
        if (r.ratio().isPresent()) {
            root.put("ratio", Math.round(r.ratio().get() * 10) / 10.0);
        } else {
            root.putNull("ratio");
        }
        putLong(root, "warmPullMs", r.warmMs());
        putInt(root, "warmLayersDownloaded", r.warm().map(ImagePull.Result::layersDownloaded));
        if (r.warm().isPresent()) {
            root.put("warmUpToDate", r.warm().get().upToDate());
        } else {
            root.putNull("warmUpToDate");
        }
        ArrayNode services = root.putArray("services");
        r.services().forEach(services::add);
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

    private static void deployed(ObjectNode root, String key, Optional<ReuseProofRun.Deployed> deployed) {
        if (deployed.isEmpty()) {
            root.putNull(key);
            return;
        }
        ReuseProofRun.Deployed d = deployed.get();
        ObjectNode node = root.putObject(key);
        node.put("service", d.service());
        node.put("reference", d.reference());
        node.put("ms", d.millis());
        node.put("pulled", d.pulled());
        ArrayNode events = node.putArray("pullEvents");
        d.pullEvents().forEach(events::add);
        ArrayNode tags = node.putArray("tags");
        ArrayNode digests = node.putArray("digests");
        d.image().ifPresent(i -> {
            i.repoTags().forEach(tags::add);
            i.repoDigests().forEach(digests::add);
        });
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
