package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The shared text helper: docker's size units, safe engine text, one summary line. */
class TextTest {

    @ParameterizedTest
    @CsvSource({
        "0,              0 B",
        "999,            999 B",
        "1000,           1.0 kB",
        "65536,          65.5 kB",
        "12600000,       12.6 MB",
        "999960000,      1.0 GB",
        "1500000000000,  1.5 TB"})
    void sizesAreInDockersUnitsOfPowersOf1000(long bytes, String shown) {
        assertEquals(shown, Text.bytes(bytes));
    }

    @Test
    void engineTextCannotReachTheTerminalAsControlSequencesOrNewLines() {
        assertEquals("a\\x1b[2Jb\\nforged", Text.safe("a\u001b[2Jb\nforged"));
        assertEquals("plain name_1.2-x", Text.safe("plain name_1.2-x"));
        assertEquals("\\u202eevil", Text.safe("\u202eevil"));
        assertEquals("caf\u00e9 \u4e2d", Text.safe("caf\u00e9 \u4e2d"), "printable non-ASCII stays");
    }

    @Test
    void aSummaryValueStaysOnItsLine() {
        String line = new Text.Summary().put("reason", "stack: live\nverdict: prune allowed").put("exit", 10).toString();
        assertFalse(line.contains("\n"), line);
        assertEquals("summary reason=\"stack: live\\nverdict: prune allowed\" exit=10", line);
    }
}
