package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** --failback and --no-path-retry durations: read to the millisecond, anything else refused naming what was typed. */
class DurationOptionsTest {
    @ParameterizedTest
    @CsvSource({"30, 30000", "1.5, 1500", "0.25, 250", "0.001, 1", " 2 , 2000", "9999999.999, 9999999999"})
    void secondsAreReadToTheMillisecond(String text, long millis) {
        assertEquals(millis, NoPathRetry.parse(text).timeoutMillis());
        assertEquals(millis, Failback.parse(text).delayMillis());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1e30", "1f", "1d", "NaN", "Infinity", "-3", "+3", "0x10", "0.0001", "1.", ".5", "10000000",
        "1,5", "", "sometimes"})
    void anythingElseIsRefusedNamingIt(String text) {
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> NoPathRetry.parse(text));
        assertTrue(a.getMessage().endsWith("got '" + text + "'"), a.getMessage());
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> Failback.parse(text));
        assertTrue(b.getMessage().endsWith("got '" + text + "'"), b.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.000"})
    void zeroIsAFailbackDelayButNoRetryTime(String text) {
        assertEquals(0, Failback.parse(text).delayMillis());
        assertThrows(IllegalArgumentException.class, () -> NoPathRetry.parse(text));
    }
}
