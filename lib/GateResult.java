package ccci;

import java.util.Map;

/**
 * One gate's answer. UNKNOWN means it could not be evaluated, which never counts as holding.
 * figures are the numbers behind the answer, for --json (path, percent, stacks, services...).
 */
public record GateResult(String name, State state, String detail, Map<String, Object> figures) {
    public enum State { HOLDS, BLOCKS, UNKNOWN }

    public boolean holds() {
        return state == State.HOLDS;
    }
}
