package ccci.scenario;

import ccci.GatePolicy;
import ccci.PruneRun;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

/** What the prune and gates scenarios share: a full fake host, prune run on it in this JVM, and what the host holds. */
final class OnFake {
    private OnFake() {}

    static final long GB = 1_000_000_000L;
    static final GatePolicy.Settings GATES = GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null);

    /** A manager whose data root is 85% full before its images count: every gate holds. */
    static FakeHost fullHost(FakeHost.Store store) {
        FakeHost host = new FakeHost(store);
        host.state().disk(10 * GB, 8_500_000_000L);
        return host;
    }

    static PruneRun.Settings settings(String until) {
        return PruneRun.Settings.of(GATES, Until.parse(until));
    }

    static PruneRun.Report prune(FakeHost host, PruneRun.Settings settings, boolean dryRun, PruneRun.Listener listener) {
        return PruneRun.run(() -> host, host, settings, dryRun, listener, host.state().clock());
    }

    static PruneRun.Report prune(FakeHost host, String until, boolean dryRun) {
        return prune(host, settings(until), dryRun, new PruneRun.Listener() {});
    }

    /** Every container, image (intermediate ones too) and build cache record on the host, as "kind id". */
    static Set<String> inventory(FakeHost host) {
        Set<String> all = new TreeSet<>();
        host.containers(true).forEach(c -> all.add("container " + c.path("Id").asText()));
        host.imageTags().keySet().forEach(id -> all.add("image " + id));
        JsonNode df = host.systemDf(Set.of("build-cache"));
        JsonNode cache = df.has("BuildCache") ? df.path("BuildCache") : df.path("BuildCacheUsage").path("Items");
        cache.forEach(b -> all.add("build-cache " + b.path("ID").asText()));
        return all;
    }

    /** A registry digest made from a seed: sha256:64 hex digits. */
    static String digest(String seed) {
        try {
            return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(seed.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 12 characters the text output shows of an ID (with or without "sha256:"). */
    static String shortId(String id) {
        return id.replaceFirst("^sha256:", "").substring(0, 12);
    }

    static Set<String> imageIds(FakeHost host) {
        return new TreeSet<>(host.imageTags().keySet());
    }
}
