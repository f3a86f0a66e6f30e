package io.jmpio.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** A peer's text cannot forge a log line, drive a terminal, or flood the log. */
class PeerTextTest {
    @Test
    void controlCharactersEscapesAndLengthAreDefused() {
        assertEquals("evil?[31m??2026 INFO forged", PeerText.printable("evil\u001b[31m\r\n2026 INFO forged"));
        assertEquals("caf?", PeerText.printable("café"));
        assertEquals("x".repeat(80) + "...", PeerText.printable("x".repeat(5000)));
        assertEquals("null", PeerText.printable(null));
    }
}
