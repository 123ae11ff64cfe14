package ccci;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Renders a {@link Verdict} for a terminal or journald (text) and for machines (--json). */
public final class VerdictFormat {
    private VerdictFormat() {}


    public static String text(Verdict verdict) {
        StringBuilder out = new StringBuilder();
        for (GateResult gate : verdict.gates()) {
            out.append(String.format("%-12s %-7s %s%n", gate.name(), word(gate.state()), gate.detail()));
        }
        out.append(verdict.pruneAllowed()
                ? "verdict: prune allowed (all gates hold)"
                : "verdict: prune not allowed (" + String.join(", ",
                        verdict.notHolding().stream().filter(g -> g.state() != GateResult.State.SKIPPED)
                                .map(g -> g.name() + " " + word(g.state())).toList()) + ")");
        return out.append(System.lineSeparator()).toString();
    }

    public static ObjectNode json(Verdict verdict, String host) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("pruneAllowed", verdict.pruneAllowed());
        root.put("exitCode", verdict.exitCode());
        root.put("host", host);
        root.set("problems", Json.mapper().valueToTree(verdict.problems()));
        ArrayNode gates = root.putArray("gates");
        for (GateResult gate : verdict.gates()) {
            ObjectNode node = gates.addObject();
            node.put("name", gate.name());
            node.put("holds", gate.holds());
            node.put("state", word(gate.state()));
            node.put("detail", gate.detail());
            gate.figures().forEach((key, value) -> node.set(key, Json.mapper().valueToTree(value)));
        }
        return root;
    }

    public static String jsonText(Verdict verdict, String host) {
        return json(verdict, host).toPrettyString() + System.lineSeparator();
    }

    static String word(GateResult.State state) {
        return switch (state) {
            case HOLDS -> "holds";
            case BLOCKS -> "blocks";
            case UNKNOWN -> "unknown";
            case SKIPPED -> "skipped";
        };
    }
}
