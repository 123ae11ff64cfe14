package ccci.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal, deterministic ustar writer: owner 0:0, mtime 0, entries in the order written. Same
 * calls, same bytes, so layer digests (and image IDs) are stable across runs.
 */
final class TarWriter {
    static final int BLOCK = 512;

    /** Produces exactly the announced number of bytes of an entry's content. */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private final OutputStream out;

    TarWriter(OutputStream out) {
        this.out = out;
    }

    /** Bytes a single regular file of {@code size} bytes takes in a tar, end-of-archive included. */
    static long sizeOfSingleFileTar(long size) {
        return BLOCK + padded(size) + 2L * BLOCK;
    }

    void directory(String name, int mode) throws IOException {
        header(name.endsWith("/") ? name : name + "/", mode, 0, '5', "");
    }

    void symlink(String name, String target) throws IOException {
        header(name, 0777, 0, '2', target);
    }

    void file(String name, int mode, byte[] content) throws IOException {
        file(name, mode, content.length, o -> o.write(content));
    }

    void file(String name, int mode, long size, Content content) throws IOException {
        header(name, mode, size, '0', "");
        CountingOutputStream counted = new CountingOutputStream(out);
        content.writeTo(counted);
        if (counted.count != size) {
            throw new IllegalStateException(name + ": announced " + size + " bytes, wrote " + counted.count);
        }
        out.write(new byte[(int) (padded(size) - size)]);
    }

    void finish() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.flush();
    }

    private void header(String name, int mode, long size, char type, String linkName) throws IOException {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, 0);
        h[156] = (byte) type;
        put(h, 157, 100, linkName);
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String chk = String.format("%06o", sum);
        put(h, 148, 6, chk);
        h[154] = 0;
        h[155] = ' ';
        out.write(h);
    }

    private static void put(byte[] h, int at, int len, String value) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        if (b.length > len) {
            throw new IllegalArgumentException("tar field too long (" + len + " max): " + value);
        }
        System.arraycopy(b, 0, h, at, b.length);
    }

    private static void octal(byte[] h, int at, int len, long value) {
        put(h, at, len - 1, String.format("%0" + (len - 1) + "o", value));
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static final class CountingOutputStream extends OutputStream {
        private final OutputStream target;
        long count;

        CountingOutputStream(OutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            target.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            target.write(b, off, len);
            count += len;
        }
    }
}
