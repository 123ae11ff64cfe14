package ccci;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Renders a prune {@link PruneRun.Report}: lines for a terminal and journald, or one JSON object. */
public final class PruneFormat {
    private PruneFormat() {}

    public static final String NOOP_LINE = "keeping local image cache, nothing to do";
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.systemDefault());

    public static String phaseLine(EnginePrune.PhaseResult r) {
        return String.format(Locale.ROOT, "%-12s removed %d, reclaimed %s in %.2f s", r.phase().key,
                r.removedIds().size(), bytes(r.reclaimedBytes()), r.elapsed().toMillis() / 1000.0);
    }

    public static String text(PruneRun.Report report) {
        StringBuilder out = new StringBuilder();
        switch (report.outcome()) {
            case NOOP -> line(out, NOOP_LINE + ": " + report.verdict().reason());
            case DRY_RUN -> {
                if (!report.verdict().pruneAllowed()) {
                    line(out, NOOP_LINE + ": " + report.verdict().reason());
                    line(out, "dry run: had the gates held, a real run would do this:");
                } else {
                    line(out, "gates hold: " + gatesSummary(report.verdict()));
                    line(out, "dry run: nothing removed; a real run would do this:");
                }
                PrunePlan plan = report.plan().orElseThrow();
                for (PrunePlan.Item item : plan.removed()) {
                    line(out, "  remove " + row(item));
                }
                for (PrunePlan.Item item : plan.kept()) {
                    line(out, "  keep   " + row(item));
                }
                line(out, "would remove " + counts(plan.removed()) + " (images " + bytes(plan.removed().stream()
                        .filter(i -> i.kind().equals("image")).mapToLong(PrunePlan.Item::size).sum()) + " listed size)");
            }
            default -> {
                for (PrunePlan.Item item : removedItems(report)) {
                    line(out, "removed " + row(item));
                }
                report.problem().ifPresent(p -> line(out, "stopped: " + p + "; completed phases: "
                        + (report.phases().isEmpty() ? "none" : phaseKeys(report))));
            }
        }
        line(out, summary(report));
        return out.toString();
    }

    /** One journald-friendly line of key=value pairs. */
    public static String summary(PruneRun.Report r) {
        StringBuilder s = new StringBuilder("summary");
        kv(s, "outcome", r.outcome().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        kv(s, "exit", r.exitCode());
        kv(s, "phases", r.phases().isEmpty() ? "none" : phaseKeys(r));
        for (PrunePlan.Phase p : PrunePlan.Phase.values()) {
            r.phases().stream().filter(x -> x.phase() == p).findFirst()
                    .ifPresent(x -> kv(s, p.key.replace('-', '_') + "_removed", x.removedIds().size()));
        }
        kv(s, "reclaimed_bytes", r.reclaimedBytes());
        r.diskBefore().ifPresent(v -> kv(s, "disk_before", v));
        r.diskAfter().ifPresent(v -> kv(s, "disk_after", v));
        r.imagesBefore().ifPresent(v -> kv(s, "images_before", v));
        r.imagesAfter().ifPresent(v -> kv(s, "images_after", v));
        kv(s, "elapsed_ms", r.elapsed().toMillis());
        return s.toString();
    }

    public static String json(PruneRun.Report r) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("ran", r.ran());
        root.put("dryRun", r.outcome() == PruneRun.Outcome.DRY_RUN);
        root.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        root.put("exitCode", r.exitCode());
        root.put("reclaimedBytes", r.reclaimedBytes());
        r.problem().ifPresentOrElse(p -> root.put("reason", p), () -> root.putNull("reason"));
        r.stoppedBefore().ifPresentOrElse(p -> root.put("stoppedBefore", p.key), () -> root.putNull("stoppedBefore"));
        putOptional(root, "diskBefore", r.diskBefore());
        putOptional(root, "diskAfter", r.diskAfter());
        putOptional(root, "imagesBefore", r.imagesBefore());
        putOptional(root, "imagesAfter", r.imagesAfter());
        root.put("elapsedMs", r.elapsed().toMillis());
        root.set("gates", VerdictFormat.json(r.verdict(), null).get("gates"));
        root.put("pruneAllowed", r.verdict().pruneAllowed());
        ArrayNode phases = root.putArray("phases");
        for (EnginePrune.PhaseResult p : r.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", p.phase().key);
            node.put("removed", p.removedIds().size());
            node.put("reclaimedBytes", p.reclaimedBytes());
            node.put("elapsedMs", p.elapsed().toMillis());
            node.set("removedIds", Json.mapper().valueToTree(p.removedIds()));
        }
        List<PrunePlan.Item> removed = r.outcome() == PruneRun.Outcome.DRY_RUN
                ? r.plan().map(PrunePlan::removed).orElse(List.of())
                : removedItems(r);
        Set<String> removedIds = removed.stream().map(PrunePlan.Item::id).collect(Collectors.toSet());
        items(root.putArray(r.outcome() == PruneRun.Outcome.DRY_RUN ? "wouldRemove" : "removed"), removed);
        if (r.outcome() == PruneRun.Outcome.DRY_RUN) {
            root.putArray("removed");
        }
        items(root.putArray("kept"), r.plan().map(p -> p.kept().stream()
                .filter(i -> !removedIds.contains(i.id())).toList()).orElse(List.of()));
        return root.toPrettyString() + System.lineSeparator();
    }

    /** What the engine says it removed, described from the plan (or as "not in the plan" if it is not there). */
    static List<PrunePlan.Item> removedItems(PruneRun.Report r) {
        Set<String> seen = new HashSet<>();
        List<PrunePlan.Item> items = new java.util.ArrayList<>();
        for (EnginePrune.PhaseResult p : r.phases()) {
            for (String id : p.removedIds()) {
                if (!seen.add(id)) {
                    continue;
                }
                Optional<PrunePlan.Item> planned = r.plan().flatMap(plan -> plan.phase(p.phase()).stream()
                        .filter(i -> i.id().equals(id)).findFirst());
                items.add(planned.orElseGet(() -> new PrunePlan.Item(kind(p.phase()), id, "", null, 0, true,
                        "removed by the engine, not in the plan (created after it was made)")));
            }
        }
        return items;
    }

    private static String kind(PrunePlan.Phase phase) {
        return switch (phase) {
            case CONTAINERS -> "container";
            case IMAGES -> "image";
            case BUILD_CACHE -> "build-cache";
        };
    }

    private static void items(ArrayNode array, List<PrunePlan.Item> items) {
        for (PrunePlan.Item i : items) {
            ObjectNode node = array.addObject();
            node.put("type", i.kind());
            node.put("id", i.id());
            node.put("name", i.name());
            if (i.created() != null) {
                node.put("created", i.created().toString());
            } else {
                node.putNull("created");
            }
            node.put("size", i.size());
            node.put("reason", i.reason());
        }
    }

    private static String row(PrunePlan.Item i) {
        String id = i.id().replaceFirst("^sha256:", "");
        return String.format(Locale.ROOT, "%-11s %-12s %-28s %-16s %9s  %s", i.kind(),
                id.substring(0, Math.min(12, id.length())), clip(i.name(), 28),
                i.created() == null ? "-" : WHEN.format(i.created()), i.kind().equals("volume") ? "-" : bytes(i.size()),
                i.reason());
    }

    private static String counts(List<PrunePlan.Item> items) {
        long c = items.stream().filter(i -> i.kind().equals("container")).count();
        long i = items.stream().filter(x -> x.kind().equals("image")).count();
        long b = items.stream().filter(x -> x.kind().equals("build-cache")).count();
        return c + " container" + (c == 1 ? "" : "s") + ", " + i + " image" + (i == 1 ? "" : "s") + ", "
                + b + " build cache record" + (b == 1 ? "" : "s");
    }

    static String gatesSummary(Verdict v) {
        return v.gates().stream().map(GateResult::detail).collect(Collectors.joining("; "));
    }

    private static String phaseKeys(PruneRun.Report r) {
        return r.phases().stream().map(p -> p.phase().key).collect(Collectors.joining(","));
    }

    private static String clip(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "\u2026";
    }

    public static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        do {
            v /= 1024;
            u++;
        } while (v >= 1024 && u < units.length - 1);
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static void kv(StringBuilder s, String key, Object value) {
        String text = String.valueOf(value);
        s.append(' ').append(key).append('=').append(text.matches("[^\\s\"]+") ? text : "\"" + text.replace("\"", "'") + "\"");
    }

    private static void putOptional(ObjectNode node, String key, Optional<Integer> value) {
        value.ifPresentOrElse(v -> node.put(key, v), () -> node.putNull(key));
    }

    private static void line(StringBuilder out, String text) {
        out.append(text).append(System.lineSeparator());
    }
}
