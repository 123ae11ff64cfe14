package ccci;

import ccci.sandbox.ImageSpec;
import ccci.sandbox.SandboxEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScratchDemoTest {
    @Test
    void demo() throws Exception {
        Path out = Path.of("/tmp/enough-demo");
        Files.createDirectories(out);
        try (SandboxEngine engine = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(160))) {
            engine.importBusybox("ci-base:1");
            engine.loadImage(ImageSpec.dangling(Instant.parse("2026-01-01T00:00:00Z"), 3L << 20, 501));
            for (int i = 0; GatesStandaloneEngineTest.dfPercent(engine.dataRoot()) < 86; i++) {
                engine.loadImage(ImageSpec.tagged("app:" + String.format("%07x", 0x3fa91c0 + i * 7919), Instant.parse("2026-11-20T00:00:00Z").plusSeconds(i * 3600), 12L << 20));
            }
            String state = out.resolve("state.json").toString();
            String[] base = {"--host", engine.host(), "--lock-file", out.resolve("lock").toString(), "--state-file", state,
                "--metrics-file", out.resolve("m.prom").toString()};
            ScriptRun dry = ScriptRun.of("Prune", concat(base, "--dry-run"));
            Files.writeString(out.resolve("dry.txt"), dry.toString());
            ScriptRun real = ScriptRun.of("Prune", base);
            Files.writeString(out.resolve("real.txt"), real.toString());
            Files.writeString(out.resolve("real.prom"), Files.readString(out.resolve("m.prom")));
            ScriptRun json = ScriptRun.of("Prune", concat(base, "--json"));
            Files.writeString(out.resolve("real.json"), json.toString());
            engine.dockerOk("run", "-d", "--network", "none", "--name", "k3x9-4f2a1c_ci_commoninternet_net_web", "ci-base:1", "sleep", "3600");
            Files.delete(Path.of(state));
            ScriptRun first = ScriptRun.of("Prune", base);
            Files.writeString(out.resolve("first.txt"), first.toString());
            Instant since = Instant.now().minus(Duration.ofHours(80)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            Files.writeString(Path.of(state), "{\"version\": 1, \"gatesLastAllowed\": \"" + since.minus(Duration.ofHours(24)) + "\", \"blockedSince\": \"" + since + "\", \"lastRun\": null, \"lastOutcome\": \"noop\"}\n");
            ScriptRun blocked = ScriptRun.of("Prune", base);
            Files.writeString(out.resolve("blocked.txt"), blocked.toString());
            Files.writeString(out.resolve("blocked.prom"), Files.readString(out.resolve("m.prom")));
            Files.writeString(out.resolve("state-after.json"), Files.readString(Path.of(state)));
            Files.writeString(Path.of(state), "{garbage");
            ScriptRun corrupt = ScriptRun.of("Prune", base);
            Files.writeString(out.resolve("corrupt.txt"), corrupt.toString());
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
