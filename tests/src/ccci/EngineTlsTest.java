package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.WholeProduct;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker CLI's TLS rules, against a plain listener on loopback that records every byte it
 * receives: with DOCKER_TLS_VERIFY set (to any non-empty value) no request goes out in clear text,
 * a cert dir without its files is bad input before any connection, and auth-check never sends the
 * password over plain HTTP. A password in the host URI is never shown.
 */
@WholeProduct
class EngineTlsTest {
    static final String PASSWORD = "tls-secret-" + System.nanoTime();
    static SandboxEngine engine;
    @TempDir static Path tmp;
    static Path certs;
    static Path config;
    Recorder listener;

    @BeforeAll
    static void setUp() throws Exception {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
        certs = Files.createDirectories(tmp.resolve("certs"));
        Cmd.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ccci-test",
                "-keyout", certs.resolve("key.pem").toString(), "-out", certs.resolve("cert.pem").toString()).requireOk();
        Files.copy(certs.resolve("cert.pem"), certs.resolve("ca.pem"));
        config = Files.createDirectories(tmp.resolve("cfg"));
        String auth = java.util.Base64.getEncoder().encodeToString(("ccci:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        Files.writeString(config.resolve("config.json"), "{\"auths\":{\"localhost:5000\":{\"auth\":\"" + auth + "\"}}}");
        Files.setPosixFilePermissions(config.resolve("config.json"), PosixFilePermissions.fromString("rw-------"));
    }

    @AfterAll
    static void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    @BeforeEach
    void listen() throws IOException {
        listener = new Recorder();
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
    }

    @Test
    void anyNonEmptyTlsVerifyWithAnEmptyCertDirIsBadInputBeforeAnyConnection() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("no-certs"));
        for (String value : List.of("1", "yes", "on", "0")) {
            ChildScript run = ChildScript.start(tmp, Map.of("DOCKER_TLS_VERIFY", value, "DOCKER_CERT_PATH", empty.toString()),
                    "Gates", "-H", listener.uri(), "--threshold", "1").finish(60);
            assertEquals(ExitCodes.BAD_INPUT, run.exit(), "DOCKER_TLS_VERIFY=" + value + "\n" + run);
            assertEquals(List.of("gates: DOCKER_TLS_VERIFY is set, but ca.pem, cert.pem, key.pem are missing or unreadable in "
                    + empty + " (DOCKER_CERT_PATH): no request sent"), run.err().lines().toList(), run.toString());
            assertEquals(0, listener.connections(), "nothing connected");
        }
    }

    @Test
    void withTlsVerifyATcpHostIsSpokenToInTlsOnly() throws Exception {
        ChildScript gates = ChildScript.start(tmp, Map.of("DOCKER_TLS_VERIFY", "yes", "DOCKER_CERT_PATH", certs.toString()),
                "Gates", "-H", listener.uri(), "--threshold", "1").finish(60);
        assertEquals(ExitCodes.CANNOT_EVALUATE, gates.exit(), gates.toString());
        ChildScript auth = ChildScript.start(tmp, Map.of("DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", certs.toString()),
                "AuthCheck", "-H", listener.uri(), "--config", config.toString(), "--registry", "localhost:5000").finish(60);
        assertEquals(ExitCodes.CANNOT_EVALUATE, auth.exit(), auth.toString());
        assertTrue(listener.connections() > 0, "they did connect");
        String received = listener.received();
        assertTrue(listener.allStartWithTlsHandshake(), "every connection began with a TLS handshake, not HTTP: " + received);
        for (String clear : List.of("GET ", "POST ", "HTTP/1.1", PASSWORD, "/auth")) {
            assertFalse(received.contains(clear), clear + " went out in clear text: " + received);
        }
        assertFalse((gates.out() + gates.err() + auth.out() + auth.err()).contains(PASSWORD));
    }

    @Test
    void aPasswordInTheHostUriIsNeverShown() throws Exception {
        String host = "tcp://admin:" + PASSWORD + "@127.0.0.1:" + listener.port();
        listener.close(); // refused connections: the error message names the host
        for (List<String> args : List.of(List.of("Gates", "-H", host), List.of("Gates", "-H", host, "--json"),
                List.of("AuthCheck", "-H", host, "--config", config.toString(), "--registry", "localhost:5000", "--json"),
                List.of("Prune", "-H", host, "--threshold", "1", "--json", "--lock-file", tmp.resolve("pw.lock").toString()))) {
            CommandResult run = ScriptRun.of(args.get(0), args.subList(1, args.size()).toArray(String[]::new));
            assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
            assertFalse((run.out() + run.err()).contains(PASSWORD), run.toString());
            assertTrue((run.out() + run.err()).contains("tcp://***@127.0.0.1:"), run.toString());
        }
        CommandResult bad = ScriptRun.of("Gates", "-H", "tcp://admin:" + PASSWORD + "@127.0.0.1:1/x?y");
        assertFalse((bad.out() + bad.err()).contains(PASSWORD), bad.toString());
    }

    /** A plain TCP listener on loopback: accepts, records the first bytes of each connection, closes. */
    static final class Recorder implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<byte[]> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        private final Thread thread;

        Recorder() throws IOException {
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        s.setSoTimeout(2000);
                        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                        InputStream in = s.getInputStream();
                        byte[] buffer = new byte[4096];
                        try {
                            int n;
                            while (bytes.size() < 65536 && (n = in.read(buffer)) > 0) {
                                bytes.write(buffer, 0, n);
                            }
                        } catch (IOException timeoutOrReset) {
                            // keep what arrived
                        }
                        seen.add(bytes.toByteArray());
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "tls-recorder");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        String uri() {
            return "tcp://127.0.0.1:" + port();
        }

        int connections() throws InterruptedException {
            Thread.sleep(300); // let the recorder store what it got
            return seen.size();
        }

        String received() {
            synchronized (seen) {
                StringBuilder s = new StringBuilder();
                seen.forEach(b -> s.append(new String(b, StandardCharsets.ISO_8859_1)).append('\n'));
                return s.toString();
            }
        }

        boolean allStartWithTlsHandshake() {
            synchronized (seen) {
                return seen.stream().allMatch(b -> b.length == 0 || b[0] == 0x16);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
