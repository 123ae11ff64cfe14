package ccci;

import java.util.Map;

/**
 * One gate's answer. UNKNOWN means it could not be evaluated, which never counts as holding;
 * SKIPPED means it was not asked because another gate already decided (never holds either).
 * figures are the numbers behind the answer, for --json (path, percent, stacks, services...).
 */
public record GateResult(String name, State state, String detail, Map<String, Object> figures) {
    public enum State { HOLDS, BLOCKS, UNKNOWN, SKIPPED }

    public boolean holds() {
        return state == State.HOLDS;
    }
}
