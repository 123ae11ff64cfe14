//SOURCES Fleet.java GateCheck.java GatePolicy.java Json.java Text.java
package ccci;

import ccci.Fleet.NodeResult;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Renders a {@link Fleet.Report}: one line per node and a fleet summary, or one JSON object. */
public final class FleetFormat {
    private FleetFormat() {}

    public static String startLine(String job, String image, List<Fleet.Node> targets, java.time.Duration timeout) {
        return "fleet: job " + job + " on " + Text.count(targets.size(), "node") + " (" + Text.safe(image)
                + "), waiting up to " + timeout.toSeconds() + " s";
    }

    public static String text(Fleet.Report r) {
        Text.Lines out = new Text.Lines();
        out.add("cluster: " + r.clusterGates().stream()
                .map(g -> g.name() + " " + GateCheck.word(g.state()) + " (" + Text.safe(g.detail()) + ")")
                .collect(Collectors.joining("; ")));
        r.notes().forEach(n -> out.add("note: " + Text.safe(n)));
        boolean prune = r.command().equals("prune");
        int width = Math.max(4, r.nodes().stream().mapToInt(n -> nodeName(n).length()).max().orElse(4));
        String rowFormat = "%-" + width + "s  %-7s  " + (prune ? "%-11s  %7s  %-9s  %s" : "%-4s  %s");
        out.add(prune
                ? String.format(Locale.ROOT, rowFormat, "NODE", "ROLE", "DISK", r.dryRun() ? "WOULD" : "REMOVED", "RECLAIMED", "OUTCOME").stripTrailing()
                : String.format(Locale.ROOT, rowFormat, "NODE", "ROLE", "DISK", "VERDICT").stripTrailing());
        for (NodeResult n : r.nodes()) {
            String disk = n.diskBefore().map(b -> b + "%").orElse("-");
            if (prune) {
                String after = n.diskAfter().map(a -> a + "%").orElse("-");
                String diskColumn = n.report().isPresent() ? disk + " -> " + after : "-";
                out.add(String.format(Locale.ROOT, rowFormat, nodeName(n), Text.safe(n.node().role()), diskColumn,
                        n.report().isPresent() ? Integer.toString(n.removed()) : "-",
                        n.report().isPresent() ? Text.bytes(n.reclaimedBytes()) : "-", outcome(n)));
            } else {
                out.add(String.format(Locale.ROOT, rowFormat, nodeName(n), Text.safe(n.node().role()), disk, outcome(n)));
            }
        }
        out.add(fleetLine(r));
        out.add(summary(r));
        return out.toString();
    }

    /** "host 1a2b3c4d5e6f": nodes may share a host name (clones), the ID tells them apart. */
    static String nodeName(NodeResult n) {
        return Text.safe(n.node().hostname() + " " + n.node().shortId());
    }

    /** The outcome word and, when it is not plain success, why. */
    static String outcome(NodeResult n) {
        String word = n.outcome();
        boolean plain = n.detail().isBlank() || word.equals("pruned") || word.equals("allowed");
        return Text.safe(plain ? word : word + ": " + n.detail());
    }

    /** "fleet: 3 nodes: 1 pruned, 2 noop; removed 3, reclaimed 3.1 MB; exit 0" */
    static String fleetLine(Fleet.Report r) {
        StringBuilder line = new StringBuilder("fleet: " + Text.count(r.nodes().size(), "node") + ": " + outcomeCounts(r));
        if (r.command().equals("prune")) {
            line.append("; ").append(r.dryRun() ? "would remove " : "removed ").append(removed(r)).append(", ")
                    .append(r.dryRun() ? "listed size " : "reclaimed ").append(Text.bytes(reclaimed(r)));
        }
        List<NodeResult> missing = missing(r);
        if (!missing.isEmpty()) {
            line.append("; not accounted for: ").append(missing.stream().map(n -> nodeName(n) + " (" + n.status().word() + ")")
                    .collect(Collectors.joining(", ")));
        }
        return line.append("; exit ").append(r.exitCode()).toString();
    }

    public static String summary(Fleet.Report r) {
        Text.Summary s = new Text.Summary();
        s.put("fleet", r.command());
        s.put("exit", r.exitCode());
        s.put("nodes", r.nodes().size());
        s.put("reported", r.nodes().stream().filter(n -> n.status() == Fleet.Status.REPORTED).count());
        s.put("missing", missing(r).size());
        outcomes(r).forEach((outcome, count) -> s.put(outcome.replace('-', '_'), count));
        if (r.command().equals("prune")) {
            s.put(r.dryRun() ? "would_remove" : "removed", removed(r));
            s.put(r.dryRun() ? "would_reclaim_bytes" : "reclaimed_bytes", reclaimed(r));
        }
        s.put("cluster", r.verdict().toString());
        s.put("job", r.job());
        s.put("elapsed_ms", r.elapsed().toMillis());
        if (!missing(r).isEmpty()) {
            s.put("reason", missing(r).stream().map(n -> n.node().shortId() + " " + n.status().word()).collect(Collectors.joining(", ")));
        }
        return s.toString();
    }

    public static String json(Fleet.Report r) {
        var mapper = Json.mapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("fleet", true);
        root.put("command", r.command());
        root.put("dryRun", r.dryRun());
        root.put("exitCode", r.exitCode());
        root.put("job", r.job());
        root.put("image", r.image());
        root.put("clusterVerdict", r.verdict().toString());
        root.set("cluster", GateCheck.json(new GatePolicy.Verdict(r.clusterGates(), List.of(), List.of()), null).get("gates"));
        ArrayNode nodes = root.putArray("nodes");
        for (NodeResult n : r.nodes()) {
            ObjectNode node = nodes.addObject();
            node.put("id", n.node().id());
            node.put("hostname", n.node().hostname());
            node.put("role", n.node().role());
            node.put("state", n.node().state());
            node.put("availability", n.node().availability());
            node.put("status", n.status().word());
            node.put("exitCode", n.exitCode());
            node.put("outcome", n.outcome());
            n.diskBefore().ifPresentOrElse(v -> node.put("diskBefore", v), () -> node.putNull("diskBefore"));
            n.diskAfter().ifPresentOrElse(v -> node.put("diskAfter", v), () -> node.putNull("diskAfter"));
            node.put(r.dryRun() ? "wouldRemove" : "removed", n.removed());
            node.put("reclaimedBytes", n.reclaimedBytes());
            node.put("detail", n.detail());
            n.report().ifPresentOrElse(rep -> node.set("report", rep), () -> node.putNull("report"));
        }
        root.set("notes", mapper.valueToTree(r.notes()));
        root.put("elapsedMs", r.elapsed().toMillis());
        return root.toPrettyString() + System.lineSeparator();
    }

    private static String outcomeCounts(Fleet.Report r) {
        return outcomes(r).entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", "));
    }

    private static Map<String, Long> outcomes(Fleet.Report r) {
        return r.nodes().stream().collect(Collectors.groupingBy(NodeResult::outcome, TreeMap::new, Collectors.counting()));
    }

    private static List<NodeResult> missing(Fleet.Report r) {
        return r.nodes().stream().filter(n -> n.status() != Fleet.Status.REPORTED).toList();
    }

    private static int removed(Fleet.Report r) {
        return r.nodes().stream().mapToInt(NodeResult::removed).sum();
    }

    private static long reclaimed(Fleet.Report r) {
        return r.nodes().stream().mapToLong(NodeResult::reclaimedBytes).sum();
    }
}
