package io.jmpio.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Addresses from operators and peers: what is wrong is named before any lookup or socket. */
class HostPortTest {
    private static void refused(String address, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.peer(address));
        assertTrue(e.getMessage().contains(why), address + ": " + e.getMessage());
    }

    @Test
    void aPeerNeedsAHostAndAPortToConnectTo() {
        assertEquals(4420, HostPort.peer("127.0.0.1:4420").getPort());
        assertEquals(4420, HostPort.peer("[::1]:4420").getPort());
        refused("127.0.0.1:0", "port 0 in '127.0.0.1:0'");
        refused("127.0.0.1:65536", "port out of range");
        refused("127.0.0.1:", "expected HOST:PORT");
        refused(":4420", "expected HOST:PORT");
        refused("127.0.0.1:44x", "bad port");
        refused("a b:4420", "bad host");
        refused("u@h:4420", "bad host");
        assertEquals(0, HostPort.parse("127.0.0.1:0").getPort(), "port 0 stays valid for a listener");
    }
}
