package ccci.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A docker-archive (what `docker save` writes, `docker load` reads) for an {@link ImageSpec}:
 * manifest.json, the config JSON (its "created" is the image's Created; its sha256 is the image
 * ID on the classic store) and one layer tar. Streamed; the payload is generated twice (digest, then write) rather
 * than held in memory or on disk.
 */
final class ImageArchive {
    private static final String PAYLOAD = "sandbox-payload.bin";

    private final ImageSpec spec;
    private final String layerHex;
    private final byte[] config;
    private final String configHex;

    ImageArchive(ImageSpec spec) {
        this.spec = spec;
        this.layerHex = sha256Hex(this::writeLayer);
        this.config = configJson().getBytes(StandardCharsets.UTF_8);
        this.configHex = sha256Hex(o -> o.write(config));
    }

    /**
     * The ID the engine gives the loaded image: the config's digest on the classic store; on the
     * containerd image store the digest of the manifest containerd writes for the archive entry
     * (schema 2, uncompressed layer; seen with containerd 2.1's importer).
     */
    String imageId(boolean containerdImageStore) {
        if (!containerdImageStore) {
            return "sha256:" + configHex;
        }
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:" + configHex
                + "\",\"size\":" + config.length + "},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\",\"digest\":\"sha256:" + layerHex
                + "\",\"size\":" + TarWriter.sizeOfSingleFileTar(spec.layerBytes()) + "}]}";
        byte[] bytes = manifest.getBytes(StandardCharsets.UTF_8);
        return "sha256:" + sha256Hex(o -> o.write(bytes));
    }

    void writeTo(OutputStream out) throws IOException {
        writeAll(java.util.List.of(this), out);
    }

    /** One archive holding several images (as `docker save a b c` writes): one `docker load` for all. */
    static void writeAll(java.util.List<ImageArchive> images, OutputStream out) throws IOException {
        TarWriter tar = new TarWriter(out);
        java.util.Set<String> layersWritten = new java.util.HashSet<>();
        StringBuilder manifest = new StringBuilder("[");
        for (ImageArchive image : images) {
            tar.file(image.configHex + ".json", 0644, image.config);
            if (layersWritten.add(image.layerHex)) {
                tar.directory(image.layerHex, 0755);
                tar.file(image.layerHex + "/layer.tar", 0644, TarWriter.sizeOfSingleFileTar(image.spec.layerBytes()), image::writeLayer);
            }
            manifest.append(manifest.length() > 1 ? "," : "").append(image.manifestEntry());
        }
        tar.file("manifest.json", 0644, manifest.append(']').toString().getBytes(StandardCharsets.UTF_8));
        tar.finish();
    }

    private void writeLayer(OutputStream out) throws IOException {
        TarWriter layer = new TarWriter(out);
        layer.file(PAYLOAD, 0644, spec.layerBytes(), o -> writePayload(o, spec.seed(), spec.layerBytes()));
        layer.finish();
    }

    /** SplitMix64, written out so the bytes cannot change with the JDK. */
    private static void writePayload(OutputStream out, long seed, long size) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long state = seed;
        long left = size;
        while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            for (int i = 0; i < n; i += 8) {
                state += 0x9E3779B97F4A7C15L;
                long z = state;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                z ^= z >>> 31;
                for (int b = 0; b < 8 && i + b < n; b++) {
                    buf[i + b] = (byte) (z >>> (8 * b));
                }
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private String configJson() {
        String created = spec.created().toString();
        return "{\"architecture\":\"amd64\",\"os\":\"linux\","
                + "\"config\":{\"Labels\":{\"ccci.sandbox.seed\":\"" + spec.seed() + "\"}},"
                + "\"created\":\"" + created + "\","
                + "\"history\":[{\"created\":\"" + created + "\",\"created_by\":\"ccci sandbox: "
                + spec.layerBytes() + " seeded bytes\"}],"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + layerHex + "\"]}}";
    }

    private String manifestEntry() {
        String tags = spec.isDangling() ? "null" : "[\"" + spec.ref() + "\"]";
        return "{\"Config\":\"" + configHex + ".json\",\"RepoTags\":" + tags
                + ",\"Layers\":[\"" + layerHex + "/layer.tar\"]}";
    }

    private static String sha256Hex(TarWriter.Content content) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (DigestOutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
                content.writeTo(out);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
