package ccci.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What deploy/container/Dockerfile puts on top of its base image, read so that the test image
 * mirrors it: the COPY instructions (local sources into absolute destinations) and the instructions
 * `docker import --change` accepts (ENV, ENTRYPOINT...). Any other instruction (RUN, ADD, ARG...)
 * could not be mirrored without the base image: reading the file then fails, saying so.
 */
record ToolkitDockerfile(List<Copy> copies, List<String> changes) {
    static final String JAVA_HOME = "/opt/java/openjdk";
    private static final Set<String> CHANGES = Set.of("ENV", "ENTRYPOINT", "CMD", "LABEL", "USER", "WORKDIR");

    /** COPY SOURCE DEST: SOURCE relative to the build context; a trailing / on DEST means "into". */
    record Copy(String source, String destination) {}

    static ToolkitDockerfile parse(String text) {
        List<Copy> copies = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        boolean from = false;
        for (String raw : text.lines().toList()) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                throw new IllegalStateException("continued lines are not mirrored by the test image: " + line);
            }
            String instruction = line.split("\\s+", 2)[0].toUpperCase();
            String rest = line.substring(instruction.length()).strip();
            if (instruction.equals("FROM")) {
                if (from) {
                    throw new IllegalStateException("one FROM only: the test image mirrors a single stage");
                }
                from = true;
            } else if (instruction.equals("COPY")) {
                String[] parts = rest.split("\\s+");
                if (parts.length != 2 || parts[0].startsWith("--") || !parts[1].startsWith("/")) {
                    throw new IllegalStateException("only `COPY SOURCE /ABSOLUTE/DEST` is mirrored: " + line);
                }
                copies.add(new Copy(parts[0], parts[1]));
            } else if (CHANGES.contains(instruction)) {
                changes.add(line);
            } else {
                throw new IllegalStateException(instruction + " cannot be mirrored by the test image "
                        + "(built without the base image): " + line);
            }
        }
        if (!from) {
            throw new IllegalStateException("no FROM in the Dockerfile");
        }
        if (changes.stream().noneMatch(c -> c.startsWith("ENV JAVA_HOME=" + JAVA_HOME))) {
            throw new IllegalStateException("the Dockerfile must say ENV JAVA_HOME=" + JAVA_HOME
                    + ": the test image puts its JRE there, as the Temurin base does");
        }
        return new ToolkitDockerfile(List.copyOf(copies), List.copyOf(changes));
    }
}
