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
 * The performance benchmark (issue: a fast no-op run, constant API calls at scale). Not a test:
 * it measures and reports, side by side in one run, on a private real engine with 1,000 images and
 * 0/100/500 swarm services: the daily no-op prune through the plain systemd unit's own command and
 * through ./jbang prune@cc-ci, `gates --json`, and the seed-equivalent shell anchor (df + docker
 * service ls). Each figure is the median of --repeats runs; API requests are counted from the
 * engine's own debug log ("Calling ..." lines). Run it with tests/bench/run (as root).
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

    record Row(int services, String subject, double medianSeconds, double ratio, long apiRequests) {}

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
            int created = 0;
            for (int n : sizes) {
                progress("creating services up to %d", n);
                for (; created < n; created++) {
                    engine.dockerOk("service", "create", "--detach", "--quiet", "--name", "bench-" + created,
                            "--constraint", "node.labels.nowhere==1", "bench/busybox:1", "sleep", "3600");
                }
                List<Subject> subjects = toolkit.subjects();
                double anchor = 0;
                for (Subject subject : subjects) {
                    progress("N=%d: %s (%d runs)", n, subject.name(), repeats);
                    run(subject); // warm-up: caches, page cache
                    long before = engine.apiRequestsServed();
                    run(subject);
                    long requests = engine.apiRequestsServed() - before;
                    List<Double> times = new ArrayList<>();
                    for (int r = 0; r < repeats; r++) {
                        times.add(run(subject));
                    }
                    double median = median(times);
                    if (subject.name().startsWith("anchor")) {
                        anchor = median;
                    }
                    rows.add(new Row(n, subject.name(), median, Double.NaN, requests));
                }
                double anchorMedian = anchor;
                rows.replaceAll(row -> row.services() == n
                        ? new Row(row.services(), row.subject(), row.medianSeconds(), row.medianSeconds() / anchorMedian, row.apiRequests())
                        : row);
            }
            String table = table(rows, repeats, images);
            System.out.println(table);
            if (markdown != null) {
                Files.writeString(markdown, table);
            }
        }
        return 0;
    }

    static double run(Subject subject) throws Exception {
        long start = System.nanoTime();
        ProcessResult result = new ProcessExecutor(subject.command()).environment(subject.env())
                .readOutput(true).redirectErrorStream(true)
                .timeout(5, TimeUnit.MINUTES).execute();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (result.getExitValue() != 0 && result.getExitValue() != 10) {
            throw new IllegalStateException(subject.name() + " exited " + result.getExitValue() + ":\n" + result.outputUTF8());
        }
        return seconds;
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int mid = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(mid) : (sorted.get(mid - 1) + sorted.get(mid)) / 2;
    }

    static String table(List<Row> rows, int repeats, int images) throws IOException {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Measured %s on %d cores, %s (java %s); %d images; median of %d runs.%n%n",
                LocalDate.now(), Runtime.getRuntime().availableProcessors(), cpuModel(),
                System.getProperty("java.version"), images, repeats));
        out.append("| services | command | median s | × anchor | API requests |\n");
        out.append("|---:|---|---:|---:|---:|\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "| %d | %s | %.3f | %.1f | %d |%n",
                    r.services(), r.subject(), r.medianSeconds(), r.ratio(), r.apiRequests()));
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
