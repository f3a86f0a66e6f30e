package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The allow-list takes address literals only: nothing an operator types there is ever looked up by name. */
class NbdAccessTest {
    @ParameterizedTest
    @ValueSource(strings = {"300.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "localhost", "example.org", "1e1.0.0.1",
        "10.0.0.1/x", "::g", "1.2.3.4/"})
    void entriesThatAreNotAddressLiteralsAreRefusedNamingThem(String entry) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NbdAccess.of(entry, null, null));
        assertTrue(e.getMessage().contains("'" + entry + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2.3.4/33", "::1/129", "10.0.0.0/-1"})
    void prefixesLongerThanTheAddressAreRefused(String entry) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NbdAccess.of(entry, null, null));
        assertTrue(e.getMessage().contains("prefix must be"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0/0", "192.0.2.0/24", "255.255.255.255", "::1", "fe80::/10", "::ffff:10.0.0.1"})
    void literalsAndNetworksAreTaken(String entry) {
        assertDoesNotThrow(() -> NbdAccess.of(entry, null, null));
    }
}
