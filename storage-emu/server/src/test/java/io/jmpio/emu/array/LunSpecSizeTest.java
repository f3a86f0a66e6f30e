package io.jmpio.emu.array;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Sizes as operators type them: exact bytes, or a refusal that names what was typed — never a rounded or clamped size. */
class LunSpecSizeTest {
    @ParameterizedTest
    @CsvSource({"4096, 4096", "512K, 524288", "1G, 1073741824", "1.5T, 1649267441664", "1gib, 1073741824",
        "64MB, 67108864", "4096B, 4096", "' 2M ', 2097152", "8388607T, 9223370937343148032"})
    void parsesExactBytes(String text, long bytes) {
        assertEquals(bytes, LunSpec.parseSize(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1e30", "-1", "+5", "0x10", "1f", "1d", "NaN", "Infinity", "1K2", "", "G", "1.", ".5G",
        "1,5G", "0", "0.0M", "1.3", "1.0000001K", "99999999999999999999999", "8388608T", "1P"})
    void refusesAnythingElseNamingIt(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LunSpec.parseSize(text));
        assertTrue(e.getMessage().startsWith("bad size '" + text + "'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"1.3, not a whole number of bytes", "99999999999999999999999, larger than 9223372036854775807 bytes",
        "8388608T, larger than", "0, must be more than 0 bytes", "1e30, expected a number"})
    void saysWhyANumberIsRefused(String text, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LunSpec.parseSize(text));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
