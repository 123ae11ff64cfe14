package ccci.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The root file system of a minimal runnable image, as a tar: Debian's static busybox with a
 * symlink per applet in /bin, /tmp, and a root user.
 */
final class BusyboxRootfs {
    /**
     * As PID 1 of a container, busybox's sleep would ignore SIGTERM (the kernel drops signals PID 1
     * does not handle), so every `docker stop`, `service rm` and engine shutdown would wait the full
     * 10 s grace period. This sleep traps TERM and exits at once, like a well-behaved service.
     */
    private static final String SLEEP = """
            #!/bin/sh
            trap 'exit 143' TERM INT
            /bin/busybox sleep "$@" &
            wait $!
            """;

    private BusyboxRootfs() {}

    static void writeTo(OutputStream out) throws IOException {
        Path busybox = Provision.binary("busybox");
        List<String> applets = Exec.ok(List.of(busybox.toString(), "--list")).out().lines()
                .map(String::strip)
                .filter(a -> !a.isEmpty() && !a.contains("/") && !a.equals("sleep") && !a.equals("busybox"))
                .sorted()
                .toList();
        TarWriter tar = new TarWriter(out);
        tar.directory("bin", 0755);
        tar.file("bin/busybox", 0755, Files.size(busybox), o -> Files.copy(busybox, o));
        for (String applet : applets) {
            tar.symlink("bin/" + applet, "busybox");
        }
        tar.file("bin/sleep", 0755, SLEEP.getBytes(StandardCharsets.UTF_8));
        tar.directory("etc", 0755);
        tar.file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        tar.file("etc/group", 0644, "root:x:0:\n".getBytes(StandardCharsets.UTF_8));
        tar.directory("root", 0700);
        tar.directory("tmp", 01777);
        tar.finish();
    }
}
