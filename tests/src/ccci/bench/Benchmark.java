package ccci.bench;

import ccci.sandbox.ImageSpec;
import ccci.sandbox.SandboxEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * The performance benchmark (issue 14). Not a test: it measures and reports, side by side in one
 * run, on a private real engine with 1,000 images and 0/100/500 swarm services: the seed-equivalent
 * shell anchor (df + docker service ls), a JVM hello started as the installed commands start (the
 * floor), the daily no-op prune through the plain systemd unit's own command with --path and without
 * (the engine asked), the engine alone answering the same three requests (curl), ./jbang prune@cc-ci
 * with the launcher's remembered command line and through JBang (cold), and `gates --json`. Subjects
 * run in rounds, each in turn; each figure is the median over --repeats rounds of the wall time and
 * of the CPU time (user + system of every process the command started), both also as ratios to the
 * anchor; API requests are counted from the engine's own debug log ("Calling ..." lines). The load
 * average is printed with the table: on a shared machine wall times are inflated, CPU times less so.
 * Run it with tests/bench/run (as root).
 */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = "Times the toolkit's no-op paths against the shell anchor on a private engine.")
public final class Benchmark implements Callable<Integer> {
    @Option(names = "--repeats", defaultValue = "7", description = "Timed runs per command (median reported).")
    int repeats;

    @Option(names = "--images", defaultValue = "1000", description = "Images loaded into the engine.")
    int images;

    @Option(names = "--services", defaultValue = "0,100,500", split = ",", description = "Swarm service counts to measure at.")
    List<Integer> sizes;

    @Option(names = "--repo", defaultValue = ".", description = "The repository checkout to install from.")
    Path repoOption;

    @Option(names = "--markdown", description = "Also write the table to this file.")
    Path markdown;

    record Subject(String name, Map<String, String> env, List<String> command) {}

    /** One timed run: wall seconds, and CPU seconds (user + system) of every process it started. */
    record Timing(double wall, double cpu) {}

    record Row(int services, String subject, double wall, double wallRatio, double cpu, double cpuRatio, long apiRequests) {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new Benchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path repo = repoOption.toRealPath();

        try (SandboxEngine engine = SandboxEngine.start(SandboxEngine.options().swarm(true).debug(true));
             Toolkit toolkit = Toolkit.install(repo, engine)) {
            progress("loading %d images", images);
            List<ImageSpec> specs = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                specs.add(ImageSpec.tagged("bench/image-" + i + ":1", Instant.parse("2026-01-01T00:00:00Z"), 256));
            }
            engine.loadImages(specs);
            engine.importBusybox("bench/busybox:1");

            List<Row> rows = new ArrayList<>();
            List<String> loads = new ArrayList<>(List.of(load()));
            int created = 0;
            for (int n : sizes) {
                progress("creating services up to %d", n);
                for (; created < n; created++) {
                    engine.dockerOk("service", "create", "--detach", "--quiet", "--name", "bench-" + created,
                            "--constraint", "node.labels.nowhere==1", "bench/busybox:1", "sleep", "3600");
                }
                List<Subject> subjects = toolkit.subjects();
                long[] requests = new long[subjects.size()];
                for (int i = 0; i < subjects.size(); i++) {
                    run(subjects.get(i)); // warm-up: caches, page cache, the remembered command line
                    long before = engine.apiRequestsServed();
                    run(subjects.get(i));
                    requests[i] = engine.apiRequestsServed() - before;
                }
                // rounds of every subject in turn, so a change in the machine's load hits all alike
                List<List<Timing>> timings = new ArrayList<>();
                subjects.forEach(subject -> timings.add(new ArrayList<>()));
                for (int r = 0; r < repeats; r++) {
                    progress("N=%d: round %d of %d", n, r + 1, repeats);
                    for (int i = 0; i < subjects.size(); i++) {
                        timings.get(i).add(run(subjects.get(i)));
                    }
                }
                double anchorWall = median(timings.get(0).stream().map(Timing::wall).toList());
                double anchorCpu = median(timings.get(0).stream().map(Timing::cpu).toList());
                for (int i = 0; i < subjects.size(); i++) {
                    double wall = median(timings.get(i).stream().map(Timing::wall).toList());
                    double cpu = median(timings.get(i).stream().map(Timing::cpu).toList());
                    rows.add(new Row(n, subjects.get(i).name(), wall, wall / anchorWall, cpu, cpu / anchorCpu, requests[i]));
                }
                loads.add(load());
            }
            String table = table(rows, repeats, images, loads);
            System.out.println(table);
            if (markdown != null) {
                Files.writeString(markdown, table);
            }
        }
        return 0;
    }

    /**
     * Runs a subject once through bash, whose `times` then says the CPU time of every process the
     * subject started and waited for (the JVM's threads, the docker CLI, JBang's JVM...).
     */
    static Timing run(Subject subject) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", "-c",
                "\"$@\" >/dev/null 2>&1; rc=$?; times; exit $rc", "bench"));
        command.addAll(subject.command());
        long start = System.nanoTime();
        ProcessResult result = new ProcessExecutor(command).environment(subject.env())
                .readOutput(true).timeout(5, TimeUnit.MINUTES).execute();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (result.getExitValue() != 0 && result.getExitValue() != 10) {
            throw new IllegalStateException(subject.name() + " exited " + result.getExitValue() + " (run it by hand: "
                    + String.join(" ", subject.command()) + ")");
        }
        // times: the shell's own user and system time, then its children's, e.g. "0m0.105s 0m0.031s"
        List<String> lines = result.outputUTF8().lines().toList();
        String[] children = lines.get(lines.size() - 1).trim().split("\\s+");
        return new Timing(seconds, minutes(children[0]) + minutes(children[1]));
    }

    static double minutes(String time) {
        int m = time.indexOf('m');
        return Integer.parseInt(time.substring(0, m)) * 60 + Double.parseDouble(time.substring(m + 1, time.length() - 1));
    }

    static String load() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int mid = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(mid) : (sorted.get(mid - 1) + sorted.get(mid)) / 2;
    }

    static String table(List<Row> rows, int repeats, int images, List<String> loads) throws IOException {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Measured %s on %d cores, %s (benchmark on java %s); %d images; median of %d rounds;"
                        + " 1-minute load average %s.%n%n",
                LocalDate.now(), Runtime.getRuntime().availableProcessors(), cpuModel(),
                System.getProperty("java.version"), images, repeats, String.join(" -> ", loads)));
        out.append("| services | command | wall s | × anchor | CPU s | × anchor | API requests |\n");
        out.append("|---:|---|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "| %d | %s | %.3f | %.1f | %.3f | %.1f | %d |%n",
                    r.services(), r.subject(), r.wall(), r.wallRatio(), r.cpu(), r.cpuRatio(), r.apiRequests()));
        }
        return out.toString();
    }

    static String cpuModel() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip())
                .findFirst().orElse("unknown CPU");
    }

    static void progress(String format, Object... args) {
        System.err.printf("[bench] " + format + "%n", args);
    }
}
