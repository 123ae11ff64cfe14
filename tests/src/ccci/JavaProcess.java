package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** A command of the toolkit (or a helper main) in a JVM of its own, on the test classpath. */
final class JavaProcess {
    private JavaProcess() {}

    static Process java(List<String> mainAndArgs, ProcessBuilder.Redirect stdout, ProcessBuilder.Redirect stderr)
            throws IOException {
        // SIGINT's default back, even when the test run itself ignores it (nohup, `&`)
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        command.addAll(mainAndArgs);
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout).redirectError(stderr);
        builder.environment().remove("DOCKER_HOST");
        return builder.start();
    }

    /** Holds the prune lock in a process of its own until its standard input ends. */
    static final class HoldLock {
        public static void main(String[] args) throws Exception {
            try (PruneLock lock = PruneLock.acquire(Path.of(args[0]))) {
                System.out.println("held");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // wait for the test to close our input
                }
            }
        }
    }

    static void awaitLine(Process p, String expected) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        ExecutorService single = Executors.newSingleThreadExecutor();
        try {
            Future<String> line = single.submit(reader::readLine);
            assertEquals(expected, line.get(30, TimeUnit.SECONDS));
        } finally {
            single.shutdownNow();
        }
    }
}
