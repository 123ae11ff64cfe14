package ccci.sandbox;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny shell process that outlives a hard-killed test JVM (SIGKILL skips shutdown hooks): once
 * the JVM is gone it stops the daemons named in pid files, in order (TERM, then KILL), unmounts whatever is
 * mounted under the sandbox dir and removes it. Normally it is killed, unused, by close().
 */
final class Watchdog {
    private static final String SCRIPT = """
            jvm=$1; dir=$2; shift 2
            running() { s=$(sed -n 's/^.*) \\(.\\) .*$/\\1/p' /proc/$1/stat 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
            while running "$jvm"; do sleep 1; done
            for pidfile in "$@"; do
              pid=$(cat "$pidfile" 2>/dev/null)
              if [ -n "$pid" ] && running "$pid"; then
                kill -TERM "$pid"; i=0
                while running "$pid" && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
                kill -KILL "$pid" 2>/dev/null
              fi
            done
            awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
              while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
            rm -rf "$dir"
            """;

    private final Process process;

    private Watchdog(Process process) {
        this.process = process;
    }

    /** daemonPidFiles: stopped in this order (dockerd before the containerd it uses). */
    static Watchdog guard(Path dir, List<Path> daemonPidFiles) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", SCRIPT, "sandbox-watchdog",
                Long.toString(ProcessHandle.current().pid()), dir.toString()));
        daemonPidFiles.forEach(f -> command.add(f.toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        try {
            return new Watchdog(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start watchdog for " + dir, e);
        }
    }

    long pid() {
        return process.pid();
    }

    void dismiss() {
        process.destroyForcibly();
        try {
            process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
