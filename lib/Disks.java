//SOURCES Disk.java
package ccci;

import java.io.IOException;
import java.nio.file.Path;

/** How a run measures a filesystem: the real one ({@link Disk#measure}) or, in tests, the fake host's. */
@FunctionalInterface
public interface Disks {
    Disks REAL = Disk::measure;

    Disk measure(Path path) throws IOException;

    /** Whether the path is a directory here (the data root the engine names may be on another host). */
    default boolean isDirectory(Path path) {
        return java.nio.file.Files.isDirectory(path);
    }
}
