package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * docker-java reads $DOCKER_CONFIG/config.json when it connects (for the current docker context);
 * a broken file must give one line naming the file, never the parser's message, which quotes content.
 */
class ClientConfigSecretsTest {
    @TempDir Path config;

    @Test
    void aBrokenClientConfigIsOneLineThatQuotesNothingOfIt() throws Exception {
        String secret = "hunter2secret";
        Files.writeString(config.resolve("config.json"), "{\"auths\": " + secret + "}");
        for (String script : new String[] {"Gates", "ReuseProof", "AuthCheck"}) {
            ProcessResult run = new ProcessExecutor(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), script, "--host", "unix://" + config.resolve("no.sock"))
                    .environment("DOCKER_CONFIG", config.toString())
                    .readOutput(true).redirectErrorStream(true).timeout(60, TimeUnit.SECONDS).execute();
            String out = run.outputUTF8();
            assertEquals(ExitCodes.BAD_INPUT, run.getExitValue(), script + ": " + out);
            assertFalse(out.contains(secret), script + " quoted the file:\n" + out);
            assertTrue(out.strip().matches("(?s).*: the docker client config " + java.util.regex.Pattern.quote(config.resolve("config.json").toString())
                    + " is not valid JSON \\(line 1, column \\d+\\): fix it, or point DOCKER_CONFIG elsewhere"), script + ": " + out);
            assertEquals(1, out.strip().lines().count(), script + ": one line:\n" + out);
        }
    }
}
