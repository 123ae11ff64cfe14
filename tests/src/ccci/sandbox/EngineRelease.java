package ccci.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Debian's packages of one Docker release, pinned by version and the SHA-256 of the amd64 .deb
 * (the values Debian's signed index lists). A new pin changes the cache dir, so it is fetched anew.
 */
record EngineRelease(String suite, List<Deb> debs) {
    record Deb(String name, String version, String sha256) {
        String fileName() {
            return name + "_" + version.replace(":", "%3a") + "_amd64.deb";
        }
    }

    static final EngineRelease TRIXIE = new EngineRelease("trixie", List.of(
            new Deb("docker.io", "26.1.5+dfsg1-9+deb13u1+b1", "53ae1a99f15113f0a0d2226808ec0d24ee31b3b87b87ab8ec35be09a1a2ee13b"),
            new Deb("docker-cli", "26.1.5+dfsg1-9+deb13u1+b1", "596647bc4ffaaaf2e2321116b8a10f6a6086ada797c17a7117798cb391a72776"),
            new Deb("containerd", "1.7.24~ds1-6+deb13u1", "ed708deb96fe476a3bce4efa5c0538dfbcf717ab9a7c7944ba7260342c25899c")));

    static final EngineRelease SID = new EngineRelease("sid", List.of(
            new Deb("docker.io", "28.5.2+dfsg4-5", "69a59cc77a1fb8ee9ad6859abc2e6de5d76b70887405595c2b1307818fecf682"),
            new Deb("docker-cli", "28.5.2+dfsg4-5", "8ea2428acdda666f41263f5a0d3a85681a696491361574eb7bd721a1194939b9"),
            new Deb("containerd", "2.1.9+ds1-5", "2dda86ce7033fd612fc50e136679d8174ccad680eb29cd4611e0d2a1b84cf591")));

    /** The cache dir's name: suite, docker version and a digest of every pin ("sid-28.5.2-1a2b3c4d"). */
    String cacheName() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(debs.toString().getBytes(StandardCharsets.UTF_8));
            return suite + "-" + dockerVersion() + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The upstream version of docker.io ("28.5.2"), which `dockerd --version` prints. */
    String dockerVersion() {
        String v = debs.stream().filter(d -> d.name().equals("docker.io")).findFirst().orElseThrow().version();
        return v.replaceFirst("^\\d+:", "").replaceFirst("[+~-].*$", "");
    }
}
