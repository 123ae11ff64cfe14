package ccci.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The private apt-get takes the mirror the host already uses for its own release. */
class PrivateAptTest {
    @Test
    void deb822TakesTheStanzaOfTheReleaseWithMain() {
        String sources = """
                Types: deb
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

                Types: deb deb-src
                # a comment
                URIs: http://mirror.example/debian
                Suites: bookworm bookworm-updates
                Components: main contrib
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
                """;
        assertEquals(Optional.of(new PrivateApt.HostSource("http://mirror.example/debian",
                        Optional.of("/usr/share/keyrings/debian-archive-keyring.gpg"))),
                PrivateApt.HostSource.fromDeb822(sources, "bookworm"));
        assertEquals(Optional.empty(), PrivateApt.HostSource.fromDeb822(sources, "trixie"));
    }

    @Test
    void oneLineFormatWithAndWithoutOptions() {
        String list = """
                deb-src http://mirror.example/debian bookworm main
                deb http://mirror.example/debian bookworm-updates main
                deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main non-free
                """;
        assertEquals(Optional.of(new PrivateApt.HostSource("http://mirror.example/debian", Optional.of("/k.gpg"))),
                PrivateApt.HostSource.fromOneLine(list, "bookworm"));
        assertEquals(Optional.of(new PrivateApt.HostSource("http://m/d", Optional.empty())),
                PrivateApt.HostSource.fromOneLine("deb http://m/d bookworm main\n", "bookworm"));
    }
}
