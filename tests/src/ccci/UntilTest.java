package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.Until;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** prune's --until: whole-number parts with s, m, h, d; always sent to the engine in seconds. */
class UntilTest {

    @ParameterizedTest
    @CsvSource({
        "24h,    86400s",
        "7d,     604800s",
        "1d12h,  129600s",
        "90m,    5400s",
        "30s,    30s",
        "1s,     1s",
        "3650d,  315360000s",
        "' 24h ', 86400s"})
    void agesBecomeSecondsForTheEnginesFilter(String text, String engineFilter) {
        Until until = Until.parse(text);
        assertEquals(engineFilter, until.engineFilter());
        assertEquals(Duration.ofSeconds(Long.parseLong(engineFilter.replace("s", ""))), until.duration());
    }

    @Test
    void theTextIsKeptForMessagesAndPlans() {
        assertEquals("1d12h", Until.parse("1d12h").toString());
        assertEquals(Duration.ofHours(36), Until.parse("1d12h").duration());
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "-1h", "0", "0h", "0d0h0m0s", "1.5h", "24", "", " ", "3651d", "3650d1s",
        "87601h", "h", "24H", "24 h", "1w", "+1h", "24h ago", "1h-1m", "9223372036854775807s",
        "99999999999999999999999999999999999999999999999999h"})
    void everythingElseIsBadInputThatQuotesTheValue(String text) {
        BadInput e = assertThrows(BadInput.class, () -> Until.parse(text));
        assertTrue(e.getMessage().startsWith("--until '" + text + "'"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void zeroSaysWhyItIsRefused() {
        BadInput e = assertThrows(BadInput.class, () -> Until.parse("0h"));
        assertTrue(e.getMessage().contains("zero"), e.getMessage());
    }

    @Test
    void anAbsurdlyLongNumberIsTooLargeNotACrash() {
        String huge = "9".repeat(5000) + "d";
        BadInput e = assertThrows(BadInput.class, () -> Until.parse(huge));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    @Test
    void aVeryLongListOfPartsParsesWithoutCrashing() {
        // about as long as one command-line argument can be on Linux (128 KiB): 60000 s in all
        String many = "1s".repeat(60_000);
        assertEquals("60000s", Until.parse(many).engineFilter());
    }
}
