package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a peer says about itself is checked before hosts are told any of it. */
class PeerInfoTest {
    @Test
    void aWellFormedDescriptionPasses() {
        PeerInfo p = new PeerInfo("B", 7, "127.0.0.1:7410", List.of("127.0.0.1:7412", "[::1]:7413",
            "array-b.example:7414"));
        assertEquals(p, p.checked("B", 8));
        assertEquals(p.id(), new PeerInfo("B", 1, "", List.of()).checked("B", 8).id());
    }

    @Test
    void forgedIdentityPortListsAndAddressesAreRefused() {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            many.add("127.0.0.1:" + (7000 + i));
        }
        String longName = "a".repeat(300) + ":1";
        Object[][] cases = {
            {new PeerInfo("A", 1, "", List.of()), "controller 'A'"},
            {new PeerInfo("B", 1, "", many), "9 ports"},
            {new PeerInfo("B", 1, "", null), "no ports"},
            {new PeerInfo("B", 1, "", List.of("10.0.0.1")), "not host:port"},
            {new PeerInfo("B", 1, "", List.of("10.0.0.1:0")), "not host:port"},
            {new PeerInfo("B", 1, "", List.of("10.0.0.1:65536")), "not host:port"},
            {new PeerInfo("B", 1, "", List.of("evil host:80")), "not host:port"},
            {new PeerInfo("B", 1, "", List.of("x;rm -rf /:80")), "not host:port"},
            {new PeerInfo("B", 1, "", List.of(longName)), "not host:port"},
            {new PeerInfo("B", 1, "", java.util.Arrays.asList((String) null)), "without an address"},
            {new PeerInfo("B", 1, "http://x:1/", List.of()), "admin address"},
        };
        for (Object[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ((PeerInfo) c[0]).checked("B", 8), String.valueOf(c[0]));
            assertTrue(e.getMessage().contains((String) c[1]), e.getMessage());
            assertTrue(e.getMessage().length() < 200, "messages stay short: " + e.getMessage().length());
        }
    }
}
