//SOURCES Disk.java
package ccci;

import java.io.IOException;
import java.nio.file.Path;

/** How a run measures a filesystem: the real one ({@link Disk#measure}) or, in tests, the fake host's. */
@FunctionalInterface
public interface Disks {
    /**
     * A named class, not a method reference: JDK 25's AOT cache (JEP 483) keeps no lambda whose
     * interface has a static initializer (this field is one), so {@code Disk::measure} was loaded
     * from the jar on every run instead of the cache the commands start from.
     */
    Disks REAL = new Real();

    /** The real filesystem. */
    final class Real implements Disks {
        private Real() {}

        @Override
        public Disk measure(Path path) throws IOException {
            return Disk.measure(path);
        }
    }

    Disk measure(Path path) throws IOException;

    /** Whether the path is a directory here (the data root the engine names may be on another host). */
    default boolean isDirectory(Path path) {
        return java.nio.file.Files.isDirectory(path);
    }
}
