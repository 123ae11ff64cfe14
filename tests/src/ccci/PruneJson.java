package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/** Reading prune's --json lists (removed, wouldRemove, kept): each item's id and reason. */
public final class PruneJson {
    private PruneJson() {}

    public static Set<String> ids(JsonNode items) {
        Set<String> ids = new TreeSet<>();
        items.forEach(i -> ids.add(i.path("id").asText()));
        return ids;
    }

    public static String reasonFor(JsonNode items, String id) {
        Set<String> seen = new HashSet<>();
        for (JsonNode i : items) {
            seen.add(i.path("id").asText());
            if (i.path("id").asText().equals(id)) {
                return i.path("reason").asText();
            }
        }
        throw new AssertionError(id + " not among " + seen);
    }
}
