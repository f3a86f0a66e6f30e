package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The device name becomes a file name (control socket, FUSE file) and an NBD export name; the host id becomes the
 * host NQN at every Connect. What could escape a directory, hide a file or break a Connect is refused, named.
 */
class DeviceIdentityOptionsTest {
    @ParameterizedTest
    @ValueSource(strings = {"../../tmp/evil", "a/b", ".hidden", "..", "-rf", "with space", "tab\tname", "nul\0name",
        "é", "name:1", "x12345678901234567890123456789012345678901234567890123456789012345"})
    void deviceNamesThatAreNotPlainFileNamesAreRefused(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MultipathConfig().name(name));
        assertTrue(e.getMessage().contains("must be 1 to 64 letters"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"lun0", "mpath-a", "db_1.data", "A", "x1234567890123456789012345678901234567890123456789012345678901"})
    void plainNamesAreTaken(String name) {
        assertEquals(name, new MultipathConfig().name(name).name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b:4420", "h/x:4420", "u@h:4420", "h?q:4420", "[::1 ]:4420", "h:44x"})
    void portalsThatAreNotHostPortAreRefusedBeforeAnyLookup(String portal) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MultipathConfig().portal(portal));
        assertTrue(e.getMessage().contains("'" + portal + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:4420", "[::1]:4420", "localhost:4420", "array-a.example:4420", "fe80::1%eth0:4420"})
    void hostPortPortalsAreTaken(String portal) {
        assertEquals(List.of(portal), new MultipathConfig().portal(portal).portals());
    }

    @ParameterizedTest
    @ValueSource(ints = {224, 255, 1000})
    void hostIdsLongerThanAnNqnAreRefused(int length) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new MultipathConfig().hostId("h".repeat(length)));
        assertTrue(e.getMessage().contains("1-223 printable"), e.getMessage());
        assertEquals(223, new MultipathConfig().hostId("h".repeat(223)).hostId().length());
    }
}
