package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the docker client config the docker CLI's way, on files only (no engine). */
class RegistryAuthTest {
    static final String SECRET = "s3cret-Pa55";
    @TempDir Path dir;

    static String basic(String user, String password) {
        return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    void config(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
    }

    @Test
    void dockerHubCredentialsLiveUnderTheIndexUrlKey() throws Exception {
        config("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" + basic("nptest2", SECRET) + "\"}}}");
        Registry.Lookup hub = Registry.lookup(dir, "docker.io");
        assertEquals(Registry.DOCKER_HUB_KEY, hub.key());
        Registry.Credentials c = hub.credentials().orElseThrow();
        assertEquals("nptest2", c.user());
        assertEquals("https://index.docker.io/v1/", c.serverAddress());
        assertEquals(SECRET, c.authConfig().getPassword());
        assertEquals(Registry.DOCKER_HUB_KEY, Registry.key("index.docker.io"));
        assertEquals(Registry.DOCKER_HUB_KEY, Registry.key("https://index.docker.io/v1/"));
    }

    @Test
    void aKeyWrittenAsAUrlMatchesItsHost() throws Exception {
        config("{\"auths\":{\"https://registry.example.org/v2/\":{\"username\":\"bob\",\"password\":\"" + SECRET + "\"}}}");
        assertEquals("bob", Registry.lookup(dir, "registry.example.org").credentials().orElseThrow().user());
        assertTrue(Registry.lookup(dir, "localhost:5000").credentials().isEmpty());
    }

    @Test
    void noEntryNoFileAndHelpersSayWhyWithoutCredentials() throws Exception {
        Registry.Lookup missing = Registry.lookup(dir, "localhost:5000");
        assertFalse(missing.fileExists());
        assertTrue(missing.whyNone().orElseThrow().startsWith("no docker client config at " + dir.resolve("config.json")));

        config("{\"auths\":{\"localhost:5000\":{}},\"credsStore\":\"desktop\"}");
        Registry.Lookup helper = Registry.lookup(dir, "localhost:5000");
        assertEquals("desktop", helper.helper().orElseThrow());
        assertTrue(helper.whyNone().orElseThrow().contains("docker-credential-desktop"), helper.whyNone().get());

        config("{\"auths\":{\"localhost:5000\":{}}}");
        Registry.Lookup empty = Registry.lookup(dir, "localhost:5000");
        assertTrue(empty.credentials().isEmpty(), "an entry without user and password is no credentials");
        assertTrue(empty.whyNone().orElseThrow().contains("run docker login localhost:5000"));
    }

    @Test
    void aBrokenFileIsOneLineThatQuotesNoContent() throws Exception {
        config("{\"auths\":{\"localhost:5000\":{\"auth\":\"" + basic("u", SECRET) + "\"}} " + SECRET + "garbage");
        BadInput e = assertThrows(BadInput.class, () -> Registry.lookup(dir, "localhost:5000"));
        assertTrue(e.getMessage().startsWith("the docker client config " + dir.resolve("config.json") + " is not valid JSON (line 1"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());

        config("{\"auths\":{\"localhost:5000\":{\"auth\":\"" + SECRET + "!!\"}}}");
        BadInput b = assertThrows(BadInput.class, () -> Registry.lookup(dir, "localhost:5000"));
        assertTrue(b.getMessage().contains("not base64 of user:password"), b.getMessage());
        assertFalse(b.getMessage().contains(SECRET), b.getMessage());
    }

    @Test
    void credentialsNeverShowTheirSecretsAndRedactThemEverywhere() throws Exception {
        config("{\"auths\":{\"localhost:5000\":{\"auth\":\"" + basic("alice", SECRET) + "\"}}}");
        Registry.Credentials c = Registry.lookup(dir, "localhost:5000").credentials().orElseThrow();
        assertEquals("credentials of user alice for localhost:5000", c.toString());
        assertFalse(c.authConfig().toString().contains(SECRET));
        assertFalse(Registry.lookup(dir, "localhost:5000").toString().contains(SECRET));
        String leaky = "x " + SECRET + " y " + basic("alice", SECRET) + " z " + c.header();
        assertEquals("x *** y *** z ***", c.redact(leaky));
        String header = new String(Base64.getUrlDecoder().decode(c.header()), StandardCharsets.UTF_8);
        assertTrue(header.contains("\"serveraddress\":\"localhost:5000\"") && header.contains("\"username\":\"alice\""), header);
    }

    @Test
    void theConfigDirFollowsTheDockerCliOrder() {
        assertEquals(Path.of("/etc/x"), ClientConfig.configDir("/etc/x"));
        String env = System.getenv("DOCKER_CONFIG");
        Path expected = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getenv("HOME") != null ? System.getenv("HOME") : System.getProperty("user.home"), ".docker");
        assertEquals(expected, ClientConfig.configDir(null));
    }

    @Test
    void modeIsReadThroughALinkAndGroupOrOthersExposeIt() throws Exception {
        Path real = Files.writeString(dir.resolve("rendered.json"), "{}");
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-------"));
        Path link = Files.createSymbolicLink(dir.resolve("config.json"), real);
        Registry.FileMode mode = Registry.mode(link);
        assertEquals("0600", mode.octal());
        assertEquals(real.toRealPath(), mode.linkTarget().orElseThrow());
        assertFalse(mode.exposed());

        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-r--r--"));
        Registry.FileMode open = Registry.mode(link);
        assertTrue(open.exposed());
        assertTrue(open.describe().contains("readable or writable by group and others (run: chmod 600 " + real.toRealPath() + ")"),
                open.describe());
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw----r--"));
        assertTrue(Registry.mode(link).describe().contains("by others"));
    }
}
