package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

/**
 * Sets the time of image records in a stopped containerd's metadata database (bbolt's meta.db),
 * so that the sandbox can hold images that arrived "days ago" on the containerd image store: that
 * store's prune ages an image by its record (created when it was pulled, loaded or became
 * dangling), and containerd always stamps a new record with the current time.
 *
 * <p>Only the values of the keys createdat and updatedat of the named records change, in place
 * and at their length (Go's time.MarshalBinary, 15 bytes for UTC): bbolt's pages carry no
 * checksum of their data and nothing else moves. Records are found from the newest meta page down
 * through the live tree (v1 / namespace / images / name), never by searching the file, which holds
 * stale copies of freed pages too.
 */
final class ContainerdImageRecords {
    private static final int PAGE_HEADER = 16;
    private static final int ELEMENT = 16;
    private static final int BRANCH_PAGE = 0x01;
    private static final int LEAF_PAGE = 0x02;
    private static final int BUCKET_LEAF = 0x01;
    private static final int META_MAGIC = 0xED0CDAED;
    /** Seconds from 0001-01-01 (Go's internal epoch) to the Unix epoch. */
    private static final long GO_EPOCH_OFFSET = 62135596800L;

    private ContainerdImageRecords() {}

    /** @param records record name (e.g. moby-dangling@sha256:..., docker.io/library/x:1) -> its new time */
    static void setTimes(Path metaDb, String namespace, Map<String, Instant> records) {
        try (FileChannel file = FileChannel.open(metaDb, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer db = file.map(FileChannel.MapMode.READ_WRITE, 0, file.size());
            db.order(ByteOrder.LITTLE_ENDIAN);
            ContainerdImageRecords.Tree tree = new Tree(db);
            Slice images = tree.bucket(tree.root(), "v1", namespace, "images");
            for (Map.Entry<String, Instant> record : records.entrySet()) {
                Slice image = tree.bucket(images, record.getKey());
                for (String key : new String[] {"createdat", "updatedat"}) {
                    int at = tree.valueOffset(image, key);
                    writeTime(db, at, tree.valueLength(image, key), record.getValue());
                }
            }
            db.force();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot edit " + metaDb, e);
        }
    }

    /** Go's time.MarshalBinary: version, seconds since year 1 (8), nanoseconds (4), zone (2, kept). */
    private static void writeTime(ByteBuffer db, int at, int length, Instant time) {
        int version = db.get(at);
        if ((version != 1 && version != 2) || length != (version == 1 ? 15 : 16)) {
            throw new IllegalStateException("not a Go binary time at offset " + at + " (version " + version + ", " + length + " bytes)");
        }
        ByteBuffer big = db.duplicate().order(ByteOrder.BIG_ENDIAN);
        big.putLong(at + 1, time.getEpochSecond() + GO_EPOCH_OFFSET);
        big.putInt(at + 9, time.getNano());
    }

    /** A page: either one of the file (offset of its header) or an inline bucket's page inside a value. */
    private record Slice(int offset) {}

    private static final class Tree {
        private final ByteBuffer db;
        private final int pageSize;
        private final long rootPage;

        Tree(ByteBuffer db) {
            this.db = db;
            int size0 = db.getInt(PAGE_HEADER + 8);
            long best = -1;
            long root = -1;
            for (int page = 0; page < 2; page++) {
                int meta = page * size0 + PAGE_HEADER;
                if (db.getInt(meta) != META_MAGIC) {
                    continue;
                }
                long txid = db.getLong(meta + 16 + 16 + 8 + 8);
                if (txid > best) {
                    best = txid;
                    root = db.getLong(meta + 16);
                }
            }
            if (root < 0) {
                throw new IllegalStateException("no valid bbolt meta page");
            }
            this.pageSize = size0;
            this.rootPage = root;
        }

        Slice root() {
            return new Slice(Math.toIntExact(rootPage * pageSize));
        }

        /** The bucket reached from {@code from} through the nested bucket names. */
        Slice bucket(Slice from, String... names) {
            Slice at = from;
            for (String name : names) {
                int element = leafElement(at, name);
                if ((db.getInt(element) & BUCKET_LEAF) == 0) {
                    throw new IllegalStateException(name + " is not a bucket");
                }
                int value = valueStart(element);
                long root = db.getLong(value);
                at = root == 0 ? new Slice(value + 16) : new Slice(Math.toIntExact(root * pageSize));
            }
            return at;
        }

        int valueOffset(Slice bucket, String key) {
            return valueStart(leafElement(bucket, key));
        }

        int valueLength(Slice bucket, String key) {
            return db.getInt(leafElement(bucket, key) + 12);
        }

        private int valueStart(int element) {
            return element + db.getInt(element + 4) + db.getInt(element + 8);
        }

        /** Descends branch pages to the leaf element whose key equals {@code name}. */
        private int leafElement(Slice page, String name) {
            byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
            int at = page.offset();
            while (true) {
                int flags = db.getShort(at + 8) & 0xFFFF;
                int count = db.getShort(at + 10) & 0xFFFF;
                if (flags == LEAF_PAGE) {
                    for (int i = 0; i < count; i++) {
                        int element = at + PAGE_HEADER + i * ELEMENT;
                        if (Arrays.equals(key(element + db.getInt(element + 4), db.getInt(element + 8)), wanted)) {
                            return element;
                        }
                    }
                    throw new IllegalStateException("no key " + name + " in containerd's metadata");
                }
                if (flags != BRANCH_PAGE) {
                    throw new IllegalStateException("unexpected bbolt page flags " + flags + " at offset " + at);
                }
                long child = -1;
                for (int i = 0; i < count; i++) {
                    int element = at + PAGE_HEADER + i * ELEMENT;
                    byte[] key = key(element + db.getInt(element), db.getInt(element + 4));
                    if (i == 0 || Arrays.compareUnsigned(key, wanted) <= 0) {
                        child = db.getLong(element + 8);
                    } else {
                        break;
                    }
                }
                at = Math.toIntExact(child * pageSize);
            }
        }

        private byte[] key(int at, int length) {
            byte[] key = new byte[length];
            db.get(at, key);
            return key;
        }
    }
}
