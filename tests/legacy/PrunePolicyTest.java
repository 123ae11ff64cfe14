package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.PrunePolicy.Item;
import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import ccci.Until;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each phase's engine request and its dry-run prediction, together: the age the prediction applies
 * must be the age the request asks the engine for, for objects on both sides of it, including the
 * band between an hour and a week (an image a few days old is removed under --until 24h and kept
 * under 7d). Objects named "aged-*" are ones the phase removes by age alone; every other object
 * must be kept whatever its age.
 */
class PrunePolicyTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final List<Duration> AGES = List.of(Duration.ofMinutes(30), Duration.ofHours(3), Duration.ofDays(3),
            Duration.ofDays(6), Duration.ofDays(10));

    static PruneFacts facts() {
        List<PruneFacts.ContainerRow> containers = new java.util.ArrayList<>();
        List<PruneFacts.ImageRow> images = new java.util.ArrayList<>();
        List<PruneFacts.BuildCacheRow> cache = new java.util.ArrayList<>();
        for (Duration age : AGES) {
            Instant then = NOW.minus(age);
            String id = "sha256:" + Long.toHexString(age.toSeconds());
            containers.add(new PruneFacts.ContainerRow("c" + age.toSeconds(), "aged-" + age, "sha256:busybox", "exited", then));
            containers.add(new PruneFacts.ContainerRow("r" + age.toSeconds(), "running-" + age, "sha256:used" + age.toSeconds(),
                    "running", then));
            images.add(new PruneFacts.ImageRow(id, List.of(), then, 1000));
            images.add(new PruneFacts.ImageRow(id + "t", List.of("tagged:" + age.toSeconds()), then, 1000));
            images.add(new PruneFacts.ImageRow("sha256:used" + age.toSeconds(), List.of(), then, 1000));
            cache.add(new PruneFacts.BuildCacheRow("b" + age.toSeconds(), "regular", "aged-" + age, false, false, 1000,
                    NOW.minus(Duration.ofDays(30)), Optional.of(then)));
            cache.add(new PruneFacts.BuildCacheRow("i" + age.toSeconds(), "internal", "helper", false, false, 1000, then,
                    Optional.empty()));
        }
        return new PruneFacts(containers, images, cache, List.of("data"), java.util.Set.of());
    }

    /** The age limit the engine applies, read back from what the request sends: its until filter. */
    static Duration untilSent(String request) {
        String filters = URLDecoder.decode(request.substring(request.indexOf("filters=") + "filters=".length()),
                StandardCharsets.UTF_8);
        try {
            JsonNode until = new ObjectMapper().readTree(filters).path("until");
            assertEquals(1, until.size(), request);
            Matcher seconds = Pattern.compile("(\\d+)s").matcher(until.get(0).asText());
            assertTrue(seconds.matches(), request);
            return Duration.ofSeconds(Long.parseLong(seconds.group(1)));
        } catch (IOException e) {
            throw new AssertionError(filters, e);
        }
    }

    /** How old the fixture made an item: from its name (containers, cache) or its creation (images). */
    static Duration ageOf(Phase phase, Item item) {
        if (phase == Phase.IMAGES) {
            return Duration.between(item.created(), NOW);
        }
        return Duration.parse(item.name().replaceFirst(".*aged-", ""));
    }

    static boolean removableByAge(Phase phase, Item item) {
        return phase == Phase.IMAGES
                ? item.name().equals("<none>:<none>") && !item.id().contains("used")
                : item.name().contains("aged-");
    }

    @ParameterizedTest(name = "--until {0}")
    @ValueSource(strings = {"90m", "24h", "1d12h", "4d", "7d"})
    void eachPhaseRemovesExactlyWhatItsRequestAsksTheEngineFor(String text) {
        Until until = Until.parse(text);
        Plan plan = PrunePolicy.plan(facts(), NOW, until);
        for (Phase phase : Phase.values()) {
            Duration sent = untilSent(PrunePolicy.request(phase, until));
            List<Item> items = plan.phase(phase);
            assertEquals(AGES.size() * (phase == Phase.IMAGES ? 3 : 2), items.size(), phase.key);
            for (Item item : items) {
                boolean expected = removableByAge(phase, item) && ageOf(phase, item).compareTo(sent) > 0;
                assertEquals(expected, item.remove(), phase.key + " with --until " + text + " (request sends "
                        + sent.toSeconds() + "s): " + item);
            }
            assertTrue(items.stream().anyMatch(Item::remove) || sent.compareTo(Duration.ofDays(10)) >= 0,
                    phase.key + ": the fixture has something old enough to remove");
        }
        assertTrue(plan.kept().stream().anyMatch(i -> i.kind().equals("volume")), "volumes are listed as kept");
    }

    @Test
    void aDanglingImageThreeDaysOldGoesUnder24hAndStaysUnder7d() {
        String band = "sha256:" + Long.toHexString(Duration.ofDays(3).toSeconds());
        Item under24h = image(band, Until.parse("24h"));
        assertTrue(under24h.remove(), under24h.toString());
        assertEquals("dangling and older than 24h", under24h.reason());
        Item under7d = image(band, Until.parse("7d"));
        assertFalse(under7d.remove(), under7d.toString());
        assertEquals("dangling, younger than 7d", under7d.reason());
        assertTrue(PrunePolicy.request(Phase.IMAGES, Until.parse("24h")).contains("86400s"));
        assertTrue(PrunePolicy.request(Phase.IMAGES, Until.parse("7d")).contains("604800s"));
    }

    static Item image(String id, Until until) {
        return PrunePolicy.plan(facts(), NOW, until).images().stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void theEnginesWholeSecondCutoffIsPredicted() {
        Until day = Until.parse("24h");
        Instant cutoff = NOW.minus(Duration.ofDays(1));
        assertFalse(PrunePolicy.olderThan(cutoff, day, NOW), "exactly at the cutoff: the engine keeps it");
        assertFalse(PrunePolicy.olderThan(cutoff, day, NOW.plusMillis(999)), "in the cutoff's own second");
        assertTrue(PrunePolicy.olderThan(cutoff.minusSeconds(1), day, NOW), "a second older");
    }

    /** On the containerd store a dangling image is aged by the engine's record of it, not by its build time. */
    @Test
    void theContainerdStoreAgesADanglingImageByItsRecord() {
        Instant built = Instant.parse("2019-01-01T00:00:00Z");
        PruneFacts.ImageRow arrivedNow = new PruneFacts.ImageRow("sha256:a", List.of(), built, 1000,
                Optional.of(NOW.minus(Duration.ofMinutes(30))));
        PruneFacts.ImageRow arrivedDaysAgo = new PruneFacts.ImageRow("sha256:b", List.of(), built, 1000,
                Optional.of(NOW.minus(Duration.ofDays(3))));
        PruneFacts.ImageRow unknown = new PruneFacts.ImageRow("sha256:c", List.of(), built, 1000, Optional.empty());
        PruneFacts.ImageRow tagged = new PruneFacts.ImageRow("sha256:d", List.of("x:1"), built, 1000, Optional.empty());
        PruneFacts facts = new PruneFacts(List.of(), List.of(arrivedNow, arrivedDaysAgo, unknown, tagged), List.of(), List.of(),
                java.util.Set.of(), EngineInfo.ImageStore.CONTAINERD);

        Plan day = PrunePolicy.plan(facts, NOW, Until.parse("24h"));
        assertEquals(List.of("sha256:b"), day.removed().stream().map(Item::id).toList());
        assertEquals("dangling and older than 24h (by its local record, 2026-05-29T12:00:00Z)", day.images().get(1).reason());
        assertEquals("dangling, younger than 24h (by its local record, 2026-06-01T11:30:00Z)", day.images().get(0).reason());
        assertEquals(List.of("sha256:c"), day.undecided().stream().map(Item::id).toList(), "the engine alone can tell");
        assertEquals(PrunePolicy.AGE_UNKNOWN, day.undecided().get(0).reason());
        assertFalse(day.kept().stream().anyMatch(i -> i.id().equals("sha256:c")), "undecided is not 'keep'");

        Plan week = PrunePolicy.plan(facts, NOW, Until.parse("7d"));
        assertTrue(week.removed().isEmpty(), week.toString());
        // the same rows on the classic store: aged by their build time, all old
        Plan classic = PrunePolicy.plan(new PruneFacts(facts.containers(), facts.images(), List.of(), List.of(), java.util.Set.of()),
                NOW, Until.parse("24h"));
        assertEquals(List.of("sha256:a", "sha256:b", "sha256:c"), classic.removed().stream().map(Item::id).toList());
        assertTrue(classic.undecided().isEmpty());
    }

    /** The containerd store's cutoff is to the nanosecond (the record's CreatedAt against now - until). */
    @Test
    void theContainerdStoresCutoffIsExact() {
        Until day = Until.parse("24h");
        Instant cutoff = NOW.minus(Duration.ofDays(1));
        for (long nanos : new long[] {-1, 0, 1}) {
            PruneFacts.ImageRow row = new PruneFacts.ImageRow("sha256:e", List.of(), cutoff, 1, Optional.of(cutoff.plusNanos(nanos)));
            Item item = PrunePolicy.image(row, java.util.Map.of(), EngineInfo.ImageStore.CONTAINERD, day, NOW);
            assertEquals(nanos < 0, item.remove(), "record at cutoff " + (nanos < 0 ? "" : "+") + nanos + " ns");
        }
    }

    @Test
    void anUndecidedItemIsReportedAsTheEngineSettledIt() {
        Item undecided = new Item("image", "sha256:c", "<none>:<none>", NOW, 1, false, PrunePolicy.AGE_UNKNOWN, true);
        assertTrue(undecided.settled(true).remove());
        assertEquals("removed by the engine (its age on this store was unknown to the plan)", undecided.settled(true).reason());
        assertFalse(undecided.settled(false).remove());
        assertFalse(undecided.settled(false).undecided());
        Item decided = new Item("image", "sha256:d", "x", NOW, 1, true, "dangling and older than 24h");
        assertEquals(decided, decided.settled(false), "a decided item keeps its reason");
        assertEquals(decided, decided.settled(true));
        Item kept = new Item("image", "sha256:e", "<none>:<none>", NOW, 1, false, "dangling, younger than 24h");
        assertEquals("removed by the engine, though the plan said: dangling, younger than 24h", kept.settled(true).reason());
    }

    /** BuildKit removes a record that was never used, whatever its age. */
    @Test
    void aBuildCacheRecordNeverUsedIsRemovedWhateverItsAge() {
        PruneFacts.BuildCacheRow fresh = new PruneFacts.BuildCacheRow("n", "regular", "never used", false, false, 1,
                NOW.minusSeconds(5), Optional.empty());
        Item item = PrunePolicy.buildCacheRecord(fresh, Until.parse("24h"), NOW);
        assertTrue(item.remove(), item.toString());
        assertEquals("never used (BuildKit removes it whatever its age)", item.reason());
    }

    /** The README's "Editing the policy" diff must still apply to lib/PrunePolicy.java as it is. */
    @Test
    void theReadmesPolicyEditAppliesToPrunePolicy(@TempDir Path tmp) throws Exception {
        Matcher m = Pattern.compile("(?s)## Editing the policy.*?```diff\\n(.*?)```").matcher(Repo.read("README.md"));
        assertTrue(m.find(), "README has an 'Editing the policy' section with a diff");
        String diff = m.group(1);
        assertTrue(diff.contains("+++ b/lib/PrunePolicy.java") && !diff.replaceAll("(?m)^[+-]{3} .*$", "").contains("+++"),
                "the edit touches lib/PrunePolicy.java only:\n" + diff);
        Path patch = tmp.resolve("edit.diff");
        Files.writeString(patch, diff);
        Process check = new ProcessBuilder("git", "apply", "--check", "--verbose", patch.toString())
                .directory(Repo.root().toFile()).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.waitFor(), "git apply --check of the README's diff:\n" + output);
    }
}
