package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.Provision;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * `cache` on a real engine: its figures equal `docker system df -v` (the engine's own CLI) where
 * they overlap, it asks the engine a constant three requests, it names every user of an image, and
 * it never passes an engine-supplied control character to the terminal.
 */
@OnEveryEngine
class CacheEngineTest {
    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final String EVIL_STACK = "evil\u001b[2J\nverdict: prune allowed";
    static SandboxEngine engine;
    static String busybox = "ccci-bb:cache";
    static String built = "ccci/built:cache";
    static String unused;
    static String stoppedImage;
    static String dangling;
    @TempDir Path dir;

    @BeforeAll
    static void aStoreWithEveryKindOfImage() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true).debug(true));
        engine.importBusybox(busybox);
        // shares busybox's layer: both images then have shared bytes
        engine.buildWithBuildKit("FROM " + busybox + "\nRUN echo built > /built\n", built);
        unused = engine.loadImage(ImageSpec.tagged("ccci/unused:1", OLD, 3L << 20));
        stoppedImage = engine.loadImage(ImageSpec.tagged("ccci/stopped:1", OLD, 2L << 20));
        dangling = engine.loadImage(ImageSpec.dangling(OLD, 1L << 20, 7));
        engine.dockerOk("run", "-d", "--network", "none", "--name", "runner", busybox, "sleep", "3600");
        engine.dockerOk("create", "--network", "none", "--name", "stopped", "ccci/stopped:1", "true");
        engine.dockerOk("create", "--network", "none", "--name", "labelled", "--label",
                "com.docker.stack.namespace=" + EVIL_STACK, built, "true");
        engine.dockerOk("service", "create", "--detach", "--name", "svc", busybox, "sleep", "3600");
        GatesEngineTest.waitUntil(() -> engine.dockerOk("service", "ls", "--filter", "name=svc",
                "--format", "{{.Replicas}}").equals("1/1"), "svc running");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    CommandResult cache(String... args) {
        List<String> all = new ArrayList<>(List.of("--host", engine.host(), "--last-use", dir.resolve("last-use.json").toString()));
        all.addAll(List.of(args));
        return ScriptRun.of("Cache", all.toArray(String[]::new));
    }

    @Test
    void theFiguresEqualDockerSystemDfVerboseWhereTheyOverlap() {
        JsonNode json = cache("--json").json();
        // one line per image: ID|SIZE|SHARED SIZE|UNIQUE SIZE|CONTAINERS, as the engine's own CLI formats them
        Map<String, String> df = new HashMap<>();
        for (String row : engine.dockerOk("system", "df", "-v", "--format",
                "{{range .Images}}{{.ID}}|{{.Size}}|{{.SharedSize}}|{{.UniqueSize}}|{{.Containers}};{{end}}").split(";")) {
            if (!row.isBlank()) {
                df.put(row.substring(0, row.indexOf('|')), row.substring(row.indexOf('|') + 1));
            }
        }
        Map<String, String> ours = new HashMap<>();
        for (JsonNode image : json.path("images")) {
            ours.put(image.path("id").asText(), humanSize(image.path("size").asLong(), 3) + "|"
                    + humanSize(image.path("sharedSize").asLong(), 4) + "|" + humanSize(image.path("uniqueSize").asLong(), 4)
                    + "|" + image.path("containers").asLong());
        }
        assertEquals(new TreeSet<>(df.keySet()), new TreeSet<>(ours.keySet()), "the same images");
        assertEquals(df, ours, "size, shared size, unique size and containers of every image");
        assertTrue(json.path("totals").path("sharedBytes").asLong() > 0, "busybox and the build share a layer:\n" + json);

        String totals = engine.dockerOk("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}")
                .lines().filter(l -> l.startsWith("Images|")).findFirst().orElseThrow();
        assertEquals("Images|" + json.path("totals").path("images").asLong() + "|" + json.path("totals").path("inUse").asLong()
                + "|" + humanSize(json.path("totals").path("layersBytes").asLong(), 4), totals);
    }

    @Test
    void itNamesEveryUserAndOnlyTheUnusedTaggedImageIsAnEvictionCandidate() {
        JsonNode json = cache("--json", "--min-age", "1s").json();
        Map<String, JsonNode> byId = new HashMap<>();
        json.path("images").forEach(i -> byId.put(i.path("id").asText(), i));
        String busyboxId = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", busybox);
        Set<String> users = new TreeSet<>();
        byId.get(busyboxId).path("inUseBy").forEach(u -> users.add(u.asText()));
        assertTrue(users.contains("container runner (running)"), users.toString());
        assertTrue(users.contains("service svc"), users.toString());
        assertEquals("[container stopped (created)]", byId.get(stoppedImage).path("inUseBy").toString().replace("\"", ""));
        assertEquals(0, byId.get(unused).path("inUseBy").size());

        List<String> candidates = new ArrayList<>();
        json.path("eviction").path("order").forEach(d -> candidates.add(d.path("id").asText()));
        assertEquals(List.of(unused), candidates);
        assertEquals("dangling: left to prune's image phase", byId.get(dangling).path("evictionReason").asText());
        assertEquals("record", byId.get(busyboxId).path("lastUseSource").asText(), "refreshed: a running container uses it now");
        assertEquals("created", byId.get(unused).path("lastUseSource").asText());
    }

    @Test
    void itAsksTheEngineAConstantThreeRequests() {
        long before = engine.apiRequestsServed();
        assertEquals(0, cache().exit());
        assertEquals(CacheView.ENGINE_REQUESTS, engine.apiRequestsServed() - before, engine.logTail(20));
    }

    @Test
    void textNeverPassesEngineControlCharacters() {
        CommandResult run = cache();
        assertEquals(0, run.exit(), run.toString());
        assertFalse(run.out().contains("\u001b"), run.out());
        assertFalse(run.out().lines().anyMatch(l -> l.startsWith("verdict")), run.out());
        assertTrue(run.out().contains("evil\\x1b[2J\\nverdict: prune allowed"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("summary images=5 tagged=4 dangling=1 in_use=3 ")), run.out());
    }

    @Test
    void theMetricsFileHoldsTheSameFiguresAndPromtoolAcceptsIt() throws Exception {
        Path file = dir.resolve("cache.prom");
        CommandResult run = cache("--json", "--metrics-file", file.toString(), "--evict-to", "1", "--min-age", "1s");
        assertEquals(0, run.exit(), run.toString());
        ProcessResult check = new ProcessExecutor(Provision.binary("promtool").toString(), "check", "metrics")
                .redirectInput(Files.newInputStream(file)).readOutput(true).redirectErrorStream(true)
                .timeout(30, TimeUnit.SECONDS).execute();
        assertEquals(0, check.getExitValue(), "promtool check metrics:\n" + check.outputUTF8() + "\n" + Files.readString(file));
        String metrics = Files.readString(file);
        JsonNode json = run.json();
        assertTrue(metrics.contains("ci_docker_cache_layers_bytes " + json.path("totals").path("layersBytes").asLong() + "\n"), metrics);
        assertTrue(metrics.contains("ci_docker_cache_images{kind=\"dangling\"} 1\n"), metrics);
        assertTrue(metrics.contains("ci_docker_cache_evict_reclaimable_bytes " + json.path("eviction").path("bytesFreed").asLong() + "\n"), metrics);
        assertTrue(metrics.contains("ci_docker_cache_evict_images 1\n"), metrics);
    }

    @Test
    void badInputIsOneLineAndExitTwelve() {
        CommandResult run = cache("--evict-to", "0");
        assertEquals(Cli.ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals(1, run.err().lines().count(), run.err());
        assertEquals(Cli.ExitCodes.BAD_INPUT, cache("--metrics-file", "/dev/null").exit());
        assertEquals(Cli.ExitCodes.BAD_INPUT, cache("--keep", "(").exit());
    }

    /** docker/go-units' HumanSizeWithPrecision: decimal units, Go's %.*g (significant digits, no trailing zeros). */
    static String humanSize(long bytes, int precision) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        double size = bytes;
        int i = 0;
        while (size >= 1000 && i < units.length - 1) {
            size /= 1000;
            i++;
        }
        BigDecimal rounded = new BigDecimal(size).round(new MathContext(precision, RoundingMode.HALF_EVEN));
        return (rounded.signum() == 0 ? "0" : rounded.stripTrailingZeros().toPlainString()) + units[i];
    }
}
