package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GateSettingsTest {

    @ParameterizedTest
    @ValueSource(strings = {"0", "101", "-5", "abc", "80.5", ""})
    void thresholdsOutsideOneToHundredAreBadInput(String value) {
        BadInput e = assertThrows(BadInput.class, () -> GatePolicy.Settings.parseThreshold(value));
        assertTrue(e.getMessage().startsWith("--threshold"), e.getMessage());
        assertTrue(e.getMessage().contains(value), "quotes the input: " + e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "100, 100", "85%, 85", " 90 , 90"})
    void thresholdsInRangeParse(String value, int expected) {
        assertEquals(expected, GatePolicy.Settings.parseThreshold(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"(", "[a-", "*x", ""})
    void invalidOrEmptyPatternsAreBadInput(String value) {
        assertThrows(BadInput.class, () -> GatePolicy.Settings.parsePattern(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/definitely/not/here", "relative/missing"})
    void missingPathsAreBadInput(String value) {
        BadInput e = assertThrows(BadInput.class, () -> GatePolicy.Settings.parsePath(value));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
