package ccci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The repository checkout the tests run from (Maven runs them in tests/). */
public final class Repo {
    private Repo() {}

    public static Path root() {
        try {
            return Path.of(System.getProperty("ccci.repo", "..")).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * JBang's compile cache (JBANG_CACHE_DIR) shared by every test that runs scripts through JBang,
     * in every test JVM of the build: each script compiles once per build, not once per class.
     * JBANG_DIR (catalogs, settings) stays each test's own.
     */
    static String jbangCacheDir() {
        try {
            return Files.createDirectories(root().resolve("tests/target/jbang-cache")).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The user documentation: README.md, then docs/*.md in name order (paths relative to the root). */
    public static List<String> documents() {
        try (Stream<Path> docs = Files.list(root().resolve("docs"))) {
            List<String> all = new ArrayList<>(List.of("README.md"));
            docs.map(p -> "docs/" + p.getFileName()).filter(n -> n.endsWith(".md")).sorted().forEach(all::add);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String read(String relative) {
        try {
            return Files.readString(root().resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
