package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nix/package.nix built as Nix would build it, as far as this machine allows: evaluated with the
 * real nixpkgs lib when there is a copy (see NIXPKGS_LIB; lib.fileset copies the sources into /nix/store) and
 * stand-ins for fetchMavenArtifact (Maven's local repository, at the versions of nix/deps.nix),
 * jdk17_headless (this JDK), runtimeShell and stdenvNoCC.mkDerivation (tests/nix/package-build.nix);
 * its buildPhase and installPhase then run in bash in a copy of that source, with HOME as the Nix
 * sandbox sets it and no engine to reach, and every file of $out gets the store's time (1) after.
 * Not proven here: nixpkgs' own stdenv (its fixup phase, which must leave the jar alone), the
 * sandbox itself, and the JDK nixpkgs pins.
 */
@WholeProduct
class NixPackageTest {
    static final Path BUILD = Repo.root().resolve("tests/nix/package-build.nix");
    /**
     * nixpkgs' lib: $CCCI_NIXPKGS_LIB, else a copy beside the repository (../shared/nixpkgs-lib/lib);
     * without one the build takes the stand-ins' lib, and only the fileset test is skipped.
     */
    static final Optional<Path> NIXPKGS_LIB = Stream.of(Optional.ofNullable(System.getenv("CCCI_NIXPKGS_LIB")).map(Path::of),
                    Optional.of(Repo.root().resolve("../shared/nixpkgs-lib/lib").normalize()))
            .flatMap(Optional::stream).filter(dir -> Files.isRegularFile(dir.resolve("default.nix"))).findFirst();
    static final String UNIT = NixTest.UNIT;

    static JsonNode evaluated;
    static Path out;

    /** The package's build, once per test JVM (NixTest uses it too). */
    static synchronized Path built() throws Exception {
        if (out == null) {
            evaluated = Nix.eval(BUILD, Map.of(
                    "nixpkgsLib", NIXPKGS_LIB.map(Path::toString).orElse(""),
                    "m2", NixTest.mavenRepository().toString(),
                    "jdk", System.getProperty("java.home"),
                    "shell", "/bin/bash"), null, true);
            Path work = Files.createTempDirectory("ccci-nix-package");
            Path src = work.resolve("source");
            // as the unpack phase does: the store's copy, made writable
            Cmd.run("cp", "-r", evaluated.path("src").asText(), src.toString()).requireOk();
            Cmd.run("chmod", "-R", "u+w", src.toString()).requireOk();
            String script = "set -euo pipefail\nrunHook() { :; }\n"
                    + evaluated.path("buildPhase").asText() + evaluated.path("installPhase").asText();
            Path result = work.resolve("out");
            Map<String, String> env = Map.of("PATH", NixTest.SYSTEMD_PATH, "out", result.toString(),
                    "HOME", "/homeless-shelter", "TMPDIR", Files.createDirectories(work.resolve("tmp")).toString());
            CommandResult build = Cmd.run(List.of("/bin/bash", "-c", script), env, src);
            assertEquals(0, build.exit(), build.toString());
            // the store's time on every file, as after every Nix build
            Cmd.run("find", result.toString(), "-exec", "touch", "-h", "-d", "@1", "{}", "+").requireOk();
            out = result;
        }
        return out;
    }

    /** The built sources are exactly what the fileset takes: lib/ and scripts/. */
    @Test
    void theSourceIsTheFilesetOfLibAndScripts() throws Exception {
        Assumptions.assumeTrue(NIXPKGS_LIB.isPresent(), "no copy of nixpkgs' lib here (set CCCI_NIXPKGS_LIB): lib.fileset not checked");
        built();
        Path src = Path.of(evaluated.path("src").asText());
        assertTrue(src.startsWith("/nix/store"), src.toString());
        TreeSet<String> top;
        try (Stream<Path> list = Files.list(src)) {
            top = new TreeSet<>(list.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals(new TreeSet<>(List.of("lib", "scripts")), top);
        assertTrue(Files.isRegularFile(src.resolve("scripts/prune.java")));
    }

    @Test
    void everyCommandRunsFromItsWrapper() throws Exception {
        Path out = built();
        TreeSet<String> commands = new TreeSet<>();
        evaluated.path("commands").fieldNames().forEachRemaining(commands::add);
        TreeSet<String> bins;
        try (Stream<Path> list = Files.list(out.resolve("bin"))) {
            bins = new TreeSet<>(list.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals(commands, bins);
        for (String command : bins) {
            CommandResult version = Cmd.run(List.of(out.resolve("bin/" + command).toString(), "--version"),
                    Map.of("PATH", NixTest.SYSTEMD_PATH), null);
            assertEquals(0, version.exit(), command + ": " + version);
            assertTrue(version.out().startsWith("cc-ci docker cache toolkit"), version.toString());
            assertEquals("", version.err(), command + ": " + version);
        }
    }

    /**
     * The wrappers run with the flags of deploy/jvm-flags, which deploy/systemd/install reads too:
     * C1 only and the serial GC, as the running JVM reports them.
     */
    @Test
    void theCommandsRunWithC1OnlyAndTheSerialGc() throws Exception {
        Path out = built();
        List<String> shared = new ArrayList<>();
        evaluated.path("jvmFlags").forEach(f -> shared.add(f.asText()));
        assertEquals(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), shared);
        assertTrue(Repo.read("deploy/systemd/install").contains("\"$repo/deploy/jvm-flags\""),
                "deploy/systemd/install reads its JVM flags from deploy/jvm-flags");
        for (String command : List.of("prune", "gates")) {
            assertTrue(execLine(out, command).containsAll(shared), command + ": " + execLine(out, command));
            CommandResult flags = Cmd.run(List.of(out.resolve("bin/" + command).toString(), "--version"),
                    Map.of("PATH", NixTest.SYSTEMD_PATH, "JAVA_TOOL_OPTIONS", "-XX:+PrintFlagsFinal"), null);
            assertEquals(0, flags.exit(), flags.toString());
            assertTrue(Pattern.compile("(?m)^\\s*intx TieredStopAtLevel\\s+= 1 ").matcher(flags.out()).find(), flags.out());
            assertTrue(Pattern.compile("(?m)^\\s*bool UseSerialGC\\s+= true ").matcher(flags.out()).find(), flags.out());
        }
    }

    /**
     * The module's ExecStart with its default settings, run as the unit runs it (its environment,
     * no engine reachable), on a directory below the threshold: the no-op, decided from the disk.
     * With the archive required and class loading logged, every toolkit class comes from prune's
     * archive: it was trained on exactly this run, and the store's time on the jar keeps it valid.
     */
    @Test
    void theUnitsDailyNoOpRunsFromTheArchiveTrainedOnIt(@TempDir Path tmp) throws Exception {
        Path out = built();
        JsonNode service = Nix.eval(NixTest.EVAL, Map.of("packageOut", out.toString(), "scenarios",
                        new ObjectMapper().writeValueAsString(Map.of("defaults", Map.of("settings", Map.of("enable", true))))),
                "scenarios").path("defaults").path("systemd").path("services").path(UNIT);
        List<String> unit = NixTest.execStart(service);
        assertEquals(out.resolve("bin/prune").toString(), unit.get(0));
        assertFalse(unit.contains("--threshold"), "the module leaves the threshold to prune: " + unit);
        int threshold = Defaults.THRESHOLD_PERCENT;
        Assumptions.assumeTrue(diskUse(tmp) < threshold, "the test's disk must be below prune's threshold " + threshold);

        // the unit's paths moved here: its data root, its metrics file, and prune's default state file
        List<String> args = new ArrayList<>(unit.subList(1, unit.size()));
        args.set(args.indexOf("--path") + 1, tmp.toString());
        args.set(args.indexOf("--metrics-file") + 1, tmp.resolve("ci-docker-prune.prom").toString());
        args.addAll(List.of("--state-file", tmp.resolve("state.json").toString(), "--lock-file", tmp.resolve("prune.lock").toString()));
        Map<String, String> env = new TreeMap<>();
        env.put("PATH", NixTest.SYSTEMD_PATH);
        service.path("environment").fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
        env.put("CC_CI_JNA_TMPDIR", tmp.toString());
        env.put("DOCKER_HOST", "unix://" + tmp.resolve("no-engine.sock"));

        List<String> daily = new ArrayList<>(List.of(unit.get(0)));
        daily.addAll(args);
        CommandResult run = Cmd.run(daily, env, tmp);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().startsWith("keeping local image cache, nothing to do: disk: "), run.toString());
        assertTrue(Pattern.compile("(?m)^summary outcome=noop exit=0 phases=none ").matcher(run.out()).find(), run.toString());
        assertEquals("", run.err(), run.toString());

        // again (the state file the first run wrote, as every later day), then as on the first day
        for (boolean again : List.of(true, false)) {
            if (!again) {
                Files.delete(tmp.resolve("state.json"));
            }
            List<String> strict = strict(out, "prune");
            strict.add(strict.indexOf("-cp"), "-Xlog:class+load=info:stdout");
            strict.addAll(args);
            CommandResult logged = Cmd.run(strict, env, tmp);
            assertEquals(0, logged.exit(), "prune's archive cannot be used:\n" + logged);
            assertTrue(logged.out().contains("keeping local image cache, nothing to do"), logged.toString());
            List<String> toolkit = logged.out().lines()
                    .filter(l -> l.contains("class,load") && l.matches(".* (ccci\\.\\S+|Prune) source: .*")).toList();
            assertTrue(toolkit.size() > 20, logged.out());
            assertEquals(List.of(), toolkit.stream().filter(l -> !l.contains("source: shared objects file")).toList(),
                    "toolkit classes the daily no-op loaded from the jar, not the archive (again: " + again + ")");
        }
    }

    /** Every command's archive matches its jars once the store has set their times (-Xshare:on starts). */
    @Test
    void everyArchiveIsValidInTheStore() throws Exception {
        Path out = built();
        for (String command : fieldNames(evaluated.path("commands"))) {
            List<String> strict = strict(out, command);
            strict.add("--version");
            CommandResult run = Cmd.run(strict, Map.of("PATH", NixTest.SYSTEMD_PATH), null);
            assertEquals(0, run.exit(), command + "'s archive cannot be used:\n" + run);
        }
    }

    /** An archive that no longer matches the jar (here: a copy of the package elsewhere) never breaks a run. */
    @Test
    void aStaleArchiveIsIgnoredQuietly(@TempDir Path tmp) throws Exception {
        Path out = built();
        Path moved = tmp.resolve("moved");
        Cmd.run("cp", "-a", out.toString(), moved.toString()).requireOk();
        Path wrapper = moved.resolve("bin/prune");
        Files.writeString(wrapper, Files.readString(wrapper).replace(out.toString(), moved.toString()));
        Cmd.run("touch", "-d", "@2", moved.resolve("share/cc-ci/cc-ci.jar").toString()).requireOk();

        List<String> strict = strict(moved, "prune");
        strict.add("--version");
        CommandResult refused = Cmd.run(strict, Map.of("PATH", NixTest.SYSTEMD_PATH), null);
        assertNotEquals(0, refused.exit(), "the archive is stale, -Xshare:on must refuse it: " + refused);
        CommandResult run = Cmd.run(List.of(wrapper.toString(), "--version"), Map.of("PATH", NixTest.SYSTEMD_PATH), null);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().startsWith("cc-ci docker cache toolkit"), run.toString());
        assertEquals("", run.err(), "a stale archive must not add output: " + run);
    }

    /** The wrapper's java command line, without its jna.tmpdir (a shell expansion) and "$@". */
    static List<String> execLine(Path out, String command) throws IOException {
        String wrapper = Files.readString(out.resolve("bin/" + command));
        Matcher exec = Pattern.compile("(?m)^exec (.*) \"\\$@\"$").matcher(wrapper);
        assertTrue(exec.find(), wrapper);
        List<String> line = new ArrayList<>();
        for (String arg : exec.group(1).split(" ")) {
            if (!arg.startsWith("-Djna.tmpdir=")) {
                line.add(arg);
            }
        }
        return line;
    }

    /** The wrapper's command line with its archive required (-Xshare:on instead of -Xshare:auto). */
    static List<String> strict(Path out, String command) throws IOException {
        List<String> line = execLine(out, command);
        assertTrue(line.contains("-Xshare:auto"), line.toString());
        Matcher archive = Pattern.compile("-XX:SharedArchiveFile=(\\S+)").matcher(String.join(" ", line));
        assertTrue(archive.find() && Files.isRegularFile(Path.of(archive.group(1))), "no archive for " + command + ": " + line);
        line.replaceAll(arg -> arg.equals("-Xshare:auto") ? "-Xshare:on" : arg);
        return line;
    }

    static int diskUse(Path dir) {
        CommandResult df = Cmd.run("df", "-P", dir.toString()).requireOk();
        Matcher m = Pattern.compile("(\\d+)%").matcher(df.out().lines().skip(1).findFirst().orElse(""));
        assertTrue(m.find(), df.toString());
        return Integer.parseInt(m.group(1));
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
