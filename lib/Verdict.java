package ccci;

import java.util.List;

/**
 * All gates' answers; pruning is allowed only when every gate holds. problems are the one-line
 * reasons why something could not be read (engine unreachable, disk not measurable), each once.
 */
public record Verdict(List<GateResult> gates, List<String> problems) {

    public boolean pruneAllowed() {
        return gates.stream().allMatch(GateResult::holds);
    }

    public List<GateResult> notHolding() {
        return gates.stream().filter(g -> !g.holds()).toList();
    }

    /** 0 when allowed; CANNOT_EVALUATE beats GATE_BLOCKS, because a broken check needs a human. */
    public int exitCode() {
        if (gates.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN)) {
            return ExitCodes.CANNOT_EVALUATE;
        }
        return pruneAllowed() ? ExitCodes.OK : ExitCodes.GATE_BLOCKS;
    }

    /** One line saying why pruning is not allowed, e.g. "stack: live run-app stack abcd-..." */
    public String reason() {
        return String.join("; ", notHolding().stream()
                .filter(g -> g.state() != GateResult.State.SKIPPED)
                .map(g -> g.name() + ": " + g.detail()).toList());
    }
}
