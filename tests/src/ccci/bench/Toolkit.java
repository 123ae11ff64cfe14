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

    /**
     * The commands, anchor first; every one decides "no prune" on the sandbox (disk below 80%). Each
     * run of the toolkit takes a lock file of this benchmark's own (other prunes hold the default one).
     */
    List<Benchmark.Subject> subjects() throws Exception {
        String dataRoot = engine.dataRoot().toString();
        String socket = engine.host().substring("unix://".length());
        List<Benchmark.Subject> subjects = new ArrayList<>();
        subjects.add(new Benchmark.Subject("anchor: df + docker service ls (bash)", Map.of(), List.of("bash", "-c",
                "df --output=pcent " + dataRoot + " >/dev/null && docker -H " + engine.host()
                        + " service ls --format '{{.Name}} {{.Replicas}}' >/dev/null")));
        subjects.add(new Benchmark.Subject("floor: JVM hello, installed the same way", Map.of(), hello()));

        List<String> unit = execStart();
        subjects.add(new Benchmark.Subject("prune no-op: systemd unit's ExecStart (--path)", Map.of(),
                aimed(withPath(unit, dataRoot))));
        subjects.add(new Benchmark.Subject("prune no-op: same, engine asked (no --path)", Map.of(),
                aimed(withoutPath(unit))));
        subjects.add(new Benchmark.Subject("engine alone: its 3 requests (curl --unix-socket)", Map.of(), List.of("curl", "-sf",
                "--unix-socket", socket, "-o", "/dev/null", "http://localhost/info", "-o", "/dev/null",
                "http://localhost/services?status=true", "-o", "/dev/null", "http://localhost/containers/json")));
        List<String> jbang = List.of(repo.resolve("jbang").toString(), "prune@cc-ci", "--host", engine.host(), "--path", dataRoot,
                "--lock-file", prefix.resolve("bench.lock").toString());
        subjects.add(new Benchmark.Subject("prune no-op: ./jbang prune@cc-ci, remembered", Map.of("JBANG_DIR", jbangDir.toString()), jbang));
        subjects.add(new Benchmark.Subject("prune no-op: ./jbang prune@cc-ci, JBang's path (cold)",
                Map.of("JBANG_DIR", jbangDir.toString(), "CC_CI_LAUNCHER_REMEMBER", "0"), jbang));

        subjects.add(new Benchmark.Subject("gates --json (installed beside prune)", Map.of(),
                List.of(prefix.resolve("app/bin/gates").toString(), "--json", "--host", engine.host())));
        return subjects;
    }

    /**
     * A JVM that prints hello, started as the installed commands start (their java, flags and kind of
     * archive, trained on itself): the floor for any JVM path on this machine.
     */
    private List<String> hello() throws Exception {
        List<String> wrapper = execLine(prefix.resolve("app/bin/prune"));
        Path dir = Files.createDirectories(prefix.resolve("hello"));
        Files.writeString(dir.resolve("Hello.java"), "public class Hello { public static void main(String[] a) { System.out.println(\"hello\"); } }\n");
        Path javaHome = Path.of(wrapper.get(0)).getParent().getParent();
        run(Map.of(), javaHome.resolve("bin/javac").toString(), "--release", "17", "-d", dir.toString(), dir.resolve("Hello.java").toString());
        run(Map.of(), javaHome.resolve("bin/jar").toString(), "cf", dir.resolve("hello.jar").toString(), "-C", dir.toString(), "Hello.class");
        List<String> command = new ArrayList<>();
        List<String> training = new ArrayList<>();
        for (String arg : wrapper) {
            if (arg.startsWith("-XX:SharedArchiveFile=")) {
                command.add("-XX:SharedArchiveFile=" + dir.resolve("hello.jsa"));
                training.add("-XX:ArchiveClassesAtExit=" + dir.resolve("hello.jsa"));
            } else if (arg.startsWith("-XX:AOTCache=")) {
                command.add("-XX:AOTCache=" + dir.resolve("hello.aot"));
                training.add("-XX:AOTCacheOutput=" + dir.resolve("hello.aot"));
            } else if (arg.equals("-jar")) {
                break;
            } else if (!arg.startsWith("-Djna")) {
                command.add(arg);
                if (!arg.startsWith("-XX:AOTMode=")) {
                    training.add(arg);
                }
            }
        }
        training.addAll(List.of("-cp", dir.resolve("hello.jar").toString(), "Hello"));
        run(Map.of(), training.toArray(String[]::new));
        command.addAll(List.of("-cp", dir.resolve("hello.jar").toString(), "Hello"));
        return command;
    }

    /** The exec line of an installed command's wrapper, without its "$@". */
    private static List<String> execLine(Path wrapper) throws IOException {
        String exec = Files.readAllLines(wrapper).stream().filter(l -> l.startsWith("exec ")).findFirst().orElseThrow();
        List<String> words = new ArrayList<>(List.of(exec.substring("exec ".length()).split(" ")));
        words.remove("\"$@\"");
        return words;
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
