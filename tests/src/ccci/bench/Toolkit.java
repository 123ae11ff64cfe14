package ccci.bench;

import ccci.sandbox.SandboxEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * The toolkit installed the way an operator installs it, into a temp prefix: deploy/systemd/install
 * (ahead-of-time build, class-data-sharing archives, rendered units) and the catalog registered
 * for ./jbang. Gives the commands to time, each aimed at the sandbox engine.
 */
final class Toolkit implements AutoCloseable {
    private final Path repo;
    private final SandboxEngine engine;
    private final Path prefix;
    private final Path jbangDir;

    private Toolkit(Path repo, SandboxEngine engine, Path prefix, Path jbangDir) {
        this.repo = repo;
        this.engine = engine;
        this.prefix = prefix;
        this.jbangDir = jbangDir;
    }

    static Toolkit install(Path repo, SandboxEngine engine) throws Exception {
        Path prefix = Files.createTempDirectory("ccci-bench-prefix");
        Path jbangDir = Files.createTempDirectory("ccci-bench-jbang");
        Benchmark.progress("installing the plain-systemd build into %s", prefix);
        run(Map.of("DOCKER_HOST", engine.host()), repo.resolve("deploy/systemd/install").toString(),
                "--prefix", prefix.toString(), "--unit-dir", prefix.resolve("units").toString(), "--no-enable");
        Benchmark.progress("registering the catalog for ./jbang");
        run(Map.of("JBANG_DIR", jbangDir.toString()), repo.resolve("jbang").toString(),
                "catalog", "add", "--global", "--name", "cc-ci", repo.resolve("jbang-catalog.json").toString());
        return new Toolkit(repo, engine, prefix, jbangDir);
    }

    /** The commands, anchor first; every one decides "no prune" on the sandbox (disk below 80%). */
    List<Benchmark.Subject> subjects() throws IOException {
        String dataRoot = engine.dataRoot().toString();
        List<Benchmark.Subject> subjects = new ArrayList<>();
        subjects.add(new Benchmark.Subject("anchor: df + docker service ls (bash)", Map.of(), List.of("bash", "-c",
                "df --output=pcent " + dataRoot + " >/dev/null && docker -H " + engine.host()
                        + " service ls --format '{{.Name}} {{.Replicas}}' >/dev/null")));

        List<String> unit = execStart();
        subjects.add(new Benchmark.Subject("prune no-op: systemd unit's ExecStart", Map.of(),
                aimed(withPath(unit, dataRoot))));
        subjects.add(new Benchmark.Subject("prune no-op: same, data root asked from the engine", Map.of(),
                aimed(withoutPath(unit))));
        subjects.add(new Benchmark.Subject("prune no-op: ./jbang prune@cc-ci", Map.of("JBANG_DIR", jbangDir.toString()),
                List.of(repo.resolve("jbang").toString(), "prune@cc-ci", "--host", engine.host(), "--path", dataRoot,
                        "--lock-file", prefix.resolve("bench.lock").toString())));

        subjects.add(new Benchmark.Subject("gates --json (installed beside prune)", Map.of(),
                List.of(prefix.resolve("app/bin/gates").toString(), "--json", "--host", engine.host())));
        return subjects;
    }

    /** ExecStart of the rendered unit, split as systemd splits it ($$ is a literal $). */
    List<String> execStart() throws IOException {
        String line = Files.readAllLines(prefix.resolve("units/ci-docker-prune.service")).stream()
                .filter(l -> l.startsWith("ExecStart=")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no ExecStart in the rendered unit"))
                .substring("ExecStart=".length()).replace("$$", "$");
        List<String> argv = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ' ' && !quoted) {
                if (!word.isEmpty()) {
                    argv.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (!word.isEmpty()) {
            argv.add(word.toString());
        }
        return argv;
    }

    private List<String> aimed(List<String> command) {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of("--host", engine.host(), "--lock-file", prefix.resolve("bench.lock").toString()));
        return all;
    }

    private static List<String> withPath(List<String> command, String path) {
        List<String> all = withoutPath(command);
        all.addAll(List.of("--path", path));
        return all;
    }

    private static List<String> withoutPath(List<String> command) {
        List<String> all = new ArrayList<>(command);
        int at = all.indexOf("--path");
        if (at >= 0) {
            all.remove(at + 1);
            all.remove(at);
        }
        return all;
    }

    private static void run(Map<String, String> env, String... command) throws Exception {
        ProcessResult result = new ProcessExecutor(command).environment(env).readOutput(true).redirectErrorStream(true)
                .timeout(10, TimeUnit.MINUTES).execute();
        if (result.getExitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + result.getExitValue() + ":\n" + result.outputUTF8());
        }
    }

    @Override
    public void close() throws Exception {
        new ProcessExecutor("rm", "-rf", prefix.toString(), jbangDir.toString()).execute();
    }
}
