package ccci.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Processes a SIGKILLed dockerd leaves running: containerd shims (their command line names our exec
 * root) and the containers they ran (found by cgroup, "/docker/&lt;container id&gt;"). Killed by pid.
 */
final class Leftovers {
    private Leftovers() {}

    static void kill(Path workDir, Path dataRoot) {
        String marker = workDir.toString() + "/";
        Set<String> containerIds = containerIds(dataRoot);
        long self = ProcessHandle.current().pid();
        ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self)
                .filter(p -> read(p, "cmdline").replace('\0', ' ').contains(marker)
                        || inContainer(read(p, "cgroup"), containerIds))
                .forEach(p -> {
                    System.err.println("[sandbox] killing leftover pid " + p.pid() + " of " + workDir);
                    p.destroyForcibly();
                });
    }

    private static Set<String> containerIds(Path dataRoot) {
        Path dir = dataRoot.resolve("containers");
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
    }

    private static boolean inContainer(String cgroups, Set<String> ids) {
        return !ids.isEmpty() && cgroups.lines().anyMatch(line -> {
            int at = line.lastIndexOf("/docker/");
            return at >= 0 && ids.contains(line.substring(at + "/docker/".length()));
        });
    }

    private static String read(ProcessHandle p, String file) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), file)),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
