//SOURCES CacheFormat.java Disk.java EvictionPolicy.java EvictionRun.java GateCheck.java GatePolicy.java
//SOURCES Json.java PrunePolicy.java PruneRun.java PruneShortfall.java Text.java Threshold.java
package ccci;

import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Item;
import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
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
    /** Made on first use: the time-zone database costs the no-op, which prints no date, ~0.07 s. */
    private static final class When {
        static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm'Z'").withZone(ZoneOffset.UTC);
        static final DateTimeFormatter EXACT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    }

    public static String phaseLine(PruneRun.PhaseResult r) {
        return String.format(Locale.ROOT, "%-12s removed %d, reclaimed %s in %.2f s", r.phase().key,
                r.removedIds().size(), Text.bytes(r.reclaimedBytes()), r.elapsed().toMillis() / 1000.0);
    }

    /** Before a real run's first phase: why it runs and what it is about to remove. */
    public static String intentLine(Verdict verdict, Plan plan) {
        return "gates hold: " + gatesSummary(verdict) + "; will remove " + removal(plan);
    }

    public static String text(PruneRun.Report report) {
        return text(report, false);
    }

    /**
     * @param verbose list every object kept, with why (a real host keeps hundreds of tagged images:
     *                by default the dry run lists what goes and counts what stays)
     */
    public static String text(PruneRun.Report report, boolean verbose) {
        Text.Lines out = new Text.Lines();
        switch (report.outcome()) {
            case NOOP, BLOCKED_TOO_LONG -> {
                out.add(NOOP_LINE + ": " + Text.safe(report.verdict().reason()));
                eviction(out, report); // --max-unused-age looked, and found nothing old enough
            }
            case LOCKED -> { } // the reason is on stderr and in the summary
            case DRY_RUN -> {
                if (!report.verdict().pruneAllowed()) {
                    out.add(NOOP_LINE + ": " + Text.safe(report.verdict().reason()));
                    out.add("dry run: had the gates held, a real run would do this:");
                } else {
                    out.add("gates hold: " + gatesSummary(report.verdict()));
                    out.add("dry run: nothing removed; a real run would do this:");
                }
                Plan plan = report.plan().orElseThrow();
                for (Item item : plan.removed()) {
                    out.add("  remove " + row(item));
                }
                Set<String> evicted = report.eviction().map(e -> e.removed().stream().map(r -> r.decision().image().id())
                        .collect(Collectors.toSet())).orElse(Set.of());
                if (verbose) {
                    for (Item item : plan.kept()) {
                        out.add("  keep   " + row(evicted.contains(item.id())
                                ? item.keptBecause(item.why(), item.reason() + "; eviction below removes it") : item));
                    }
                }
                out.add("would remove " + removal(plan) + "; " + keptCounts(plan, verbose));
                eviction(out, report, verbose);
            }
            case INSUFFICIENT -> {
                for (Item item : removedItems(report)) {
                    out.add("removed " + row(item));
                }
                for (Item item : keptAtRunTime(report)) {
                    out.add("kept    " + row(item));
                }
                eviction(out, report);
            }
            default -> {
                if (report.plan().isEmpty()) {
                    // failed before it could plan (a gate or the host could not be read): nothing was touched
                    out.add(NOOP_LINE + ": " + Text.safe(report.problem().orElse("")));
                } else {
                    for (Item item : removedItems(report)) {
                        out.add("removed " + row(item));
                    }
                    for (Item item : keptAtRunTime(report)) {
                        out.add("kept    " + row(item));
                    }
                    eviction(out, report);
                    report.problem().ifPresent(p -> out.add("stopped: " + Text.safe(p) + "; completed phases: "
                            + (report.phases().isEmpty() ? "none" : phaseKeys(report))));
                }
            }
        }
        if (report.nothingRemovable()) {
            out.add("nothing removable: the disk is at or above the threshold and the policy keeps every image (" + keptImages(report) + ")");
        }
        warning(report).map(Text::safe).ifPresent(out::add);
        report.metrics().flatMap(PruneRun.Report.Metrics::problem).ifPresent(p -> out.add("metrics not written: " + Text.safe(p)));
        out.add(summary(report));
        return out.toString();
    }

    /**
     * The one WARN line when the conservative prune is not enough (or, for a dry run, would not be),
     * with the figures behind it.
     */
    public static Optional<String> warning(PruneRun.Report report) {
        return report.shortfall().map(PruneFormat::warning);
    }

    static String warning(PruneShortfall.Shortfall shortfall) {
        if (shortfall instanceof PruneShortfall.Shortfall.Insufficient s) {
            boolean byFloor = s.threshold().trigger(s.after()).filter("min-free"::equals).isPresent();
            return "WARN not enough: " + (byFloor ? "still " + s.threshold().describe(s.after())
                    : "the disk is still at " + s.after().describe() + " (threshold " + s.threshold() + ")") + " after pruning, which reclaimed "
                    + Text.bytes(s.reclaimedBytes()) + "; " + Text.bytes(s.threshold().bytesToGoBelow(s.after()))
                    + " more must go to get below " + s.threshold().below() + "; " + kept(s.kept());
        }
        if (shortfall instanceof PruneShortfall.Shortfall.PredictedInsufficient s) {
            return "WARN estimate: a real run would leave the disk at or above the threshold: "
                    + "it would free about " + Text.bytes(s.wouldFreeBytes()) + " (unique bytes"
                    + (s.evictionBytes() > 0 ? "; eviction " + Text.bytes(s.evictionBytes()) + " of it" : "") + ") of the "
                    + Text.bytes(s.bytesToFree()) + " that must go to bring " + s.now().describe()
                    + " below " + s.threshold().below() + "; " + kept(s.kept());
        }
        PruneShortfall.Shortfall.BlockedTooLong s = (PruneShortfall.Shortfall.BlockedTooLong) shortfall;
        return "WARN pruning blocked for " + age(s.blockedFor())
                + " (since " + s.since() + ", longer than --blocked-limit " + s.limit() + ") while the disk is at "
                + s.disk().describe() + " (threshold " + s.threshold() + "): blocked by "
                + String.join("; ", s.blocking().stream().map(g -> "the " + g.name() + " gate: " + g.detail()).toList())
                + "; the gates last allowed a run " + s.gatesLastAllowed().map(Object::toString).orElse("never, as far as the state file knows");
    }

    /** "the conservative policy keeps 3 tagged images nothing uses (1.2 GB), ...": each image by its unique bytes. */
    static String kept(PruneShortfall.Kept kept) {
        List<String> parts = new ArrayList<>();
        if (kept.taggedUnused().images() > 0) {
            parts.add(Text.count(kept.taggedUnused().images(), "tagged image") + " nothing uses (" + Text.bytes(kept.taggedUnused().bytes()) + ")");
        }
        if (kept.inUse().images() > 0) {
            parts.add(Text.count(kept.inUse().images(), "image") + " in use (" + Text.bytes(kept.inUse().bytes()) + ")");
        }
        if (kept.cache().images() > 0) {
            parts.add(Text.count(kept.cache().images(), "cached registry image") + " (" + Text.bytes(kept.cache().bytes()) + ")");
        }
        if (kept.youngDangling().images() > 0) {
            parts.add(Text.count(kept.youngDangling().images(), "dangling image") + " younger than " + kept.until()
                    + " (" + Text.bytes(kept.youngDangling().bytes()) + ")");
        }
        return parts.isEmpty()
                ? "the conservative policy keeps no image: the space is held by something else (containers, volumes, files beside the engine)"
                : "the conservative policy keeps " + String.join(", ", parts);
    }

    /** "2 in use, 1 tagged, 0 cache, ...": the images a run left, by why (PruneRun.KEPT_REASONS). */
    static String keptImages(PruneRun.Report report) {
        return String.join(", ", report.keptImages().entrySet().stream().filter(e -> e.getValue() > 0)
                .map(e -> e.getValue() + " " + e.getKey()).toList());
    }

    /** "3d 4h", "5h 12m", "40m", "12s". */
    static String age(java.time.Duration d) {
        long days = d.toDays();
        long hours = d.toHoursPart();
        long minutes = d.toMinutesPart();
        if (days > 0) {
            return days + "d " + hours + "h";
        }
        if (hours > 0) {
            return hours + "h " + minutes + "m";
        }
        return minutes > 0 ? minutes + "m" : d.toSecondsPart() + "s";
    }

    /** The eviction step: its plan for a dry run (order, then what it keeps and why), or what it did. */
    static void eviction(Text.Lines out, PruneRun.Report report) {
        eviction(out, report, true);
    }

    static void eviction(Text.Lines out, PruneRun.Report report, boolean verbose) {
        // not out::add: a second call site alike in this class would share the daily no-op's class-data-sharing
        // record with warning's (one line in the class list, after install removes duplicates) and load from the jar
        report.evictionNote().ifPresent(note -> out.add(note));
        if (report.eviction().isEmpty()) {
            return;
        }
        EvictionRun.Result e = report.eviction().get();
        EvictionPolicy.Plan plan = e.plan();
        if (e.predicted()) {
            out.add(String.format(Locale.ROOT, "%s (disk %d%%%s): would remove %s, freeing %s, least recently used first:", what(plan),
                    plan.disk().usedPercent(), plan.forSpace() ? " after the phases, " + Text.bytes(plan.bytesNeeded()) + " needed" : "",
                    Text.count(plan.evicted().size(), "image"), Text.bytes(plan.bytesFreed())));
            for (EvictionPolicy.Decision d : plan.order()) {
                out.add("  " + String.format(Locale.ROOT, "%-5s", CacheFormat.label(d)) + " " + evictionRow(d));
            }
            if (verbose) {
                for (EvictionPolicy.Decision d : plan.kept()) {
                    out.add("  keep  " + evictionRow(d));
                }
            } else if (!plan.kept().isEmpty()) {
                out.add("  and keeps " + Text.count(plan.kept().size(), "image") + " it may not evict (--verbose lists them)");
            }
            if (!plan.deferred().isEmpty()) {
                out.add("left for the next run by --evict-max " + plan.evictMax().getAsInt() + ": "
                        + Text.safe(String.join("; ", plan.deferred().stream().map(d -> d.image().name()).toList())));
            }
            if (plan.forSpace() && !plan.reachesWatermark()) {
                out.add("eviction cannot reach " + plan.evictTo().below() + ": about " + plan.predictedAfter().usedPercent()
                        + "% after removing " + (plan.deferred().isEmpty() ? "every candidate" : "what --evict-max allows"));
            }
            return;
        }
        for (EvictionRun.Removal r : e.removals()) {
            EvictionPolicy.Decision d = r.decision();
            out.add((r.removed() ? "evicted " : "kept    ") + Text.shortId(d.image().id()) + " "
                    + Text.safe(d.image().name()) + " (" + d.cause().map(c -> c == EvictionPolicy.Cause.AGE ? Text.safe(d.reason()) + "; " : "")
                    .orElse("") + "last use " + When.EXACT.format(d.lastUse().at()) + ", "
                    + d.lastUse().describe() + "): " + r.detail().replaceFirst("^kept: ", "") + r.diskAfter().map(p -> "; disk " + p + "%").orElse(""));
        }
        if (!e.leftForNextRun().isEmpty()) {
            out.add("--evict-max " + plan.evictMax().getAsInt() + " reached: left for the next run: "
                    + Text.safe(String.join("; ", e.leftForNextRun().stream().map(d -> d.image().name()).toList())));
        }
        out.add(String.format(Locale.ROOT, "%s: removed %s; disk %s -> %s%s", what(plan),
                Text.count(e.removed().size(), "image"), e.diskBefore().map(p -> p + "%").orElse("?"),
                e.diskAfter().map(p -> p + "%").orElse("?"), e.reachedWatermark() ? "" : " (watermark not reached)"));
    }

    /** "eviction to below 75%", "eviction by --max-unused-age 30d", or both, as the plan evicts. */
    static String what(EvictionPolicy.Plan plan) {
        List<String> parts = new ArrayList<>();
        if (plan.forSpace()) {
            parts.add("to below " + plan.evictTo().below());
        }
        plan.maxUnusedAge().ifPresent(a -> parts.add("by --max-unused-age " + a));
        return "eviction " + (parts.isEmpty() ? "to below " + plan.watermark().map(Threshold::below).orElse("?") : String.join(" and ", parts));
    }

    private static String evictionRow(EvictionPolicy.Decision d) {
        return String.format(Locale.ROOT, "%-12s %-28s %9s  last use %s  %s", Text.shortId(d.image().id()),
                Text.clipStart(Text.safe(d.image().name()), 28), Text.bytes(d.frees()), When.EXACT.format(d.lastUse().at()),
                Text.safe(d.reason()));
    }

    /** "keeps 12 objects: 3 in use, 8 tagged, 1 cache (--verbose lists them)". */
    static String keptCounts(Plan plan, boolean verbose) {
        List<Item> kept = plan.kept();
        java.util.Map<String, Long> by = new java.util.LinkedHashMap<>();
        for (Item i : kept) {
            by.merge(i.why().name().toLowerCase(Locale.ROOT).replace('_', ' '), 1L, Long::sum);
        }
        return "keeps " + Text.count(kept.size(), "object") + (by.isEmpty() ? "" : ": " + String.join(", ",
                by.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList())) + (verbose || kept.isEmpty() ? "" : " (--verbose lists them)");
    }

    /** "1 container, 2 images, 0 build cache records (66.0 MB)": the listed size of what goes. */
    static String removal(Plan plan) {
        return counts(plan.removed()) + " (" + Text.bytes(plan.removed().stream().mapToLong(Item::size).sum()) + ")";
    }

    /** One journald-friendly line of key=value pairs. */
    public static String summary(PruneRun.Report r) {
        Text.Summary s = new Text.Summary();
        s.put("outcome", r.outcome().word());
        s.put("exit", r.exitCode());
        s.put("phases", r.phases().isEmpty() ? "none" : phaseKeys(r));
        for (Phase p : Phase.values()) {
            r.phases().stream().filter(x -> x.phase() == p).findFirst()
                    .ifPresent(x -> s.put(p.key.replace('-', '_') + "_removed", x.removedIds().size()));
        }
        s.put("reclaimed_bytes", r.reclaimedBytes());
        r.eviction().ifPresent(e -> {
            s.put(e.predicted() ? "would_evict" : "evicted", e.removed().size());
            s.put(e.predicted() ? "would_evict_bytes" : "evicted_bytes", e.bytesFreed());
            e.plan().watermark().ifPresent(w -> s.put("evict_to", w.percent()));
            if (e.plan().maxUnusedAge().isPresent()) {
                s.put(e.predicted() ? "would_evict_age" : "evicted_age", e.removed(EvictionPolicy.Cause.AGE).size());
            }
            if (!e.leftForNextRun().isEmpty()) {
                s.put("evict_left", e.leftForNextRun().size());
            }
        });
        if (r.nothingRemovable()) {
            s.put("nothing_removable", true);
        }
        r.diskBefore().ifPresent(v -> s.put("disk_before", v));
        r.diskAfter().ifPresent(v -> s.put("disk_after", v));
        r.imagesBefore().ifPresent(v -> s.put("images_before", v));
        r.imagesAfter().ifPresent(v -> s.put("images_after", v));
        s.put("elapsed_ms", r.elapsed().toMillis());
        r.metrics().ifPresent(m -> s.put("metrics", m.written() ? "written" : "failed"));
        r.problem().ifPresent(p -> s.put("reason", p));
        return s.toString();
    }

    public static String json(PruneRun.Report r) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("ran", r.ran());
        root.put("dryRun", r.outcome() == PruneRun.Outcome.DRY_RUN);
        root.put("outcome", r.outcome().word());
        root.put("exitCode", r.exitCode());
        root.put("reclaimedBytes", r.reclaimedBytes());
        root.put("evictedBytes", r.evictedBytes());
        r.problem().ifPresentOrElse(p -> root.put("reason", p), () -> root.putNull("reason"));
        r.stoppedBefore().ifPresentOrElse(p -> root.put("stoppedBefore", p.key), () -> root.putNull("stoppedBefore"));
        putOptional(root, "diskBefore", r.diskBefore());
        putOptional(root, "diskAfter", r.diskAfter());
        putOptional(root, "imagesBefore", r.imagesBefore());
        putOptional(root, "imagesAfter", r.imagesAfter());
        root.put("elapsedMs", r.elapsed().toMillis());
        r.metrics().ifPresentOrElse(m -> {
            ObjectNode metrics = root.putObject("metrics");
            metrics.put("written", m.written());
            m.problem().ifPresentOrElse(p -> metrics.put("reason", p), () -> metrics.putNull("reason"));
        }, () -> root.putNull("metrics"));
        root.set("gates", GateCheck.json(r.verdict(), null).get("gates"));
        root.put("pruneAllowed", r.verdict().pruneAllowed());
        ArrayNode phases = root.putArray("phases");
        for (PruneRun.PhaseResult p : r.phases()) {
            ObjectNode node = phases.addObject();
            node.put("name", p.phase().key);
            node.put("removed", p.removedIds().size());
            node.put("reclaimedBytes", p.reclaimedBytes());
            node.put("elapsedMs", p.elapsed().toMillis());
            node.set("removedIds", Json.mapper().valueToTree(p.removedIds()));
        }
        List<Item> removed = r.outcome() == PruneRun.Outcome.DRY_RUN
                ? r.plan().map(Plan::removed).orElse(List.of())
                : removedItems(r);
        Set<String> removedIds = removed.stream().map(Item::id).collect(Collectors.toSet());
        items(root.putArray(r.outcome() == PruneRun.Outcome.DRY_RUN ? "wouldRemove" : "removed"), removed);
        if (r.outcome() == PruneRun.Outcome.DRY_RUN) {
            root.putArray("removed");
        }
        List<Item> kept = new ArrayList<>(r.plan().map(p -> p.kept().stream()
                .filter(i -> !removedIds.contains(i.id())).toList()).orElse(List.of()));
        if (r.outcome() != PruneRun.Outcome.DRY_RUN) {
            kept.addAll(keptAtRunTime(r));
        }
        items(root.putArray("kept"), kept);
        warning(r).ifPresentOrElse(w -> root.put("warning", w), () -> root.putNull("warning"));
        r.shortfall().ifPresentOrElse(sf -> root.set("shortfall", shortfall(sf)), () -> root.putNull("shortfall"));
        r.state().ifPresentOrElse(st -> root.set("state", state(st)), () -> root.putNull("state"));
        r.evictionNote().ifPresentOrElse(n -> root.put("evictionNote", n), () -> root.putNull("evictionNote"));
        root.set("keptImages", Json.mapper().valueToTree(r.keptImages()));
        root.put("nothingRemovable", r.nothingRemovable());
        if (r.eviction().isPresent()) {
            root.set("eviction", evictionJson(r.eviction().get()));
        } else {
            root.putNull("eviction");
        }
        return root.toPrettyString() + System.lineSeparator();
    }

    /** After a run, the planned removals the run kept after all (a user appeared since the plan, the engine refused). */
    static List<Item> keptAtRunTime(PruneRun.Report r) {
        return r.phases().stream().flatMap(p -> p.keptAtRunTime().stream()).toList();
    }

    static ObjectNode evictionJson(EvictionRun.Result e) {
        EvictionPolicy.Plan plan = e.plan();
        ObjectNode node = Json.mapper().createObjectNode();
        plan.watermark().ifPresentOrElse(w -> node.put("evictTo", w.percent()), () -> node.putNull("evictTo"));
        plan.watermark().ifPresent(w -> node.put("minFreeBytes", w.minFreeBytes()));
        plan.maxUnusedAge().ifPresentOrElse(a -> node.put("maxUnusedAge", a.toString()), () -> node.putNull("maxUnusedAge"));
        plan.evictMax().ifPresentOrElse(n -> node.put("evictMax", n), () -> node.putNull("evictMax"));
        node.put("forSpace", plan.forSpace());
        node.put("predicted", e.predicted());
        node.put("bytesNeeded", plan.bytesNeeded());
        putOptional(node, "diskBefore", e.diskBefore());
        putOptional(node, "diskAfter", e.diskAfter());
        node.put("reachedWatermark", e.reachedWatermark());
        e.stopped().ifPresentOrElse(p -> node.put("stopped", p), () -> node.putNull("stopped"));
        ArrayNode order = node.putArray("order");
        for (EvictionPolicy.Decision d : plan.order()) {
            decision(order.addObject(), d);
        }
        ArrayNode removals = node.putArray(e.predicted() ? "wouldEvict" : "removals");
        for (EvictionRun.Removal r : e.removals()) {
            ObjectNode o = removals.addObject();
            decision(o, r.decision());
            o.put("removed", r.removed());
            o.put("detail", r.detail());
            putOptional(o, "diskAfter", r.diskAfter());
        }
        ArrayNode kept = node.putArray("kept");
        for (EvictionPolicy.Decision d : plan.kept()) {
            decision(kept.addObject(), d);
        }
        ArrayNode left = node.putArray("leftForNextRun");
        for (EvictionPolicy.Decision d : e.leftForNextRun()) {
            decision(left.addObject(), d);
        }
        return node;
    }

    private static void decision(ObjectNode node, EvictionPolicy.Decision d) {
        node.setAll(Json.mapper().<ObjectNode>valueToTree(d.fields()));
    }

    /** What the engine says it removed, described from the plan (or as "not in the plan" if it is not there). */
    static List<Item> removedItems(PruneRun.Report r) {
        Set<String> seen = new HashSet<>();
        List<Item> items = new ArrayList<>();
        for (PruneRun.PhaseResult p : r.phases()) {
            for (String id : p.removedIds()) {
                if (!seen.add(id)) {
                    continue;
                }
                Optional<Item> planned = r.plan().flatMap(plan -> plan.phase(p.phase()).stream()
                        .filter(i -> i.id().equals(id)).findFirst());
                items.add(planned.map(i -> i.remove() ? i : i.keptBecause(PrunePolicy.Why.REMOVE,
                                "removed by the engine, though the plan said: " + i.reason()))
                        .orElseGet(() -> new Item(p.phase().kind, id, "", null, 0, PrunePolicy.Why.REMOVE,
                                "removed by the engine, not in the plan (created after it was made)")));
            }
        }
        return items;
    }

    static ObjectNode shortfall(PruneShortfall.Shortfall shortfall) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("kind", shortfall.kind());
        if (shortfall instanceof PruneShortfall.Shortfall.Insufficient s) {
            disk(node, s.after(), s.threshold());
            node.put("reclaimedBytes", s.reclaimedBytes());
            node.put("bytesToFree", s.threshold().bytesToGoBelow(s.after()));
            node.set("kept", keptJson(s.kept()));
        } else if (shortfall instanceof PruneShortfall.Shortfall.PredictedInsufficient s) {
            node.put("estimate", true);
            disk(node, s.now(), s.threshold());
            node.put("wouldFreeBytes", s.wouldFreeBytes());
            node.put("evictionBytes", s.evictionBytes());
            node.put("bytesToFree", s.bytesToFree());
            node.set("kept", keptJson(s.kept()));
        } else if (shortfall instanceof PruneShortfall.Shortfall.BlockedTooLong s) {
            disk(node, s.disk(), s.threshold());
            node.set("blockingGates", Json.mapper().valueToTree(s.blocking().stream().map(GateResult::name).toList()));
            node.put("blockedSince", s.since().toString());
            node.put("blockedSeconds", s.blockedFor().toSeconds());
            node.put("blockedLimitSeconds", s.limit().duration().toSeconds());
            s.gatesLastAllowed().ifPresentOrElse(t -> node.put("gatesLastAllowed", t.toString()), () -> node.putNull("gatesLastAllowed"));
        }
        return node;
    }

    private static void disk(ObjectNode node, Disk disk, Threshold threshold) {
        node.put("usedPercent", disk.usedPercent());
        node.put("threshold", threshold.percent());
        if (threshold.minFreeBytes() > 0) {
            node.put("minFreeBytes", threshold.minFreeBytes());
            node.put("availableBytes", disk.availableBytes());
        }
        node.put("path", disk.path().toString());
    }

    private static ObjectNode keptJson(PruneShortfall.Kept kept) {
        ObjectNode node = Json.mapper().createObjectNode();
        count(node.putObject("taggedUnused"), kept.taggedUnused());
        count(node.putObject("inUse"), kept.inUse());
        count(node.putObject("cache"), kept.cache());
        count(node.putObject("youngDangling"), kept.youngDangling());
        return node;
    }

    private static void count(ObjectNode node, PruneShortfall.Kept.Count count) {
        node.put("images", count.images());
        node.put("bytes", count.bytes());
    }

    static ObjectNode state(PruneRun.StateReport state) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("file", state.file().toString());
        state.state().gatesLastAllowed().ifPresentOrElse(t -> node.put("gatesLastAllowed", t.toString()), () -> node.putNull("gatesLastAllowed"));
        state.state().blockedSince().ifPresentOrElse(t -> node.put("blockedSince", t.toString()), () -> node.putNull("blockedSince"));
        node.set("notes", Json.mapper().valueToTree(state.notes()));
        return node;
    }

    private static void items(ArrayNode array, List<Item> items) {
        for (Item i : items) {
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

    private static String row(Item i) {
        String id = i.id().replaceFirst("^sha256:", "");
        return String.format(Locale.ROOT, "%-11s %-12s %-28s %-16s %9s  %s", i.kind(),
                id.substring(0, Math.min(12, id.length())), Text.clip(Text.safe(i.name()), 28),
                i.created() == null ? "-" : When.FORMAT.format(i.created()), i.kind().equals("volume") ? "-" : Text.bytes(i.size()),
                Text.safe(i.reason()));
    }

    private static String counts(List<Item> items) {
        List<String> parts = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            long n = items.stream().filter(i -> i.kind().equals(phase.kind)).count();
            parts.add(Text.count(n, phase == Phase.BUILD_CACHE ? "build cache record" : phase.kind));
        }
        return String.join(", ", parts);
    }

    static String gatesSummary(Verdict v) {
        return Text.safe(v.gates().stream().map(GateResult::detail).collect(Collectors.joining("; ")));
    }

    private static String phaseKeys(PruneRun.Report r) {
        return r.phases().stream().map(p -> p.phase().key).collect(Collectors.joining(","));
    }

    private static void putOptional(ObjectNode node, String key, Optional<Integer> value) {
        value.ifPresentOrElse(v -> node.put(key, v), () -> node.putNull(key));
    }
}
