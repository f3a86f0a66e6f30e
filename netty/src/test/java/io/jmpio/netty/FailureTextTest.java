package io.jmpio.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** An error message names the failure even when the exception carries no message. */
class FailureTextTest {
    @Test
    void aMessageIsKeptAndAMissingOneIsReplacedByTheKindAndTheCause() {
        assertEquals("Connection refused", FailureText.of(new IOException("Connection refused")));
        assertEquals("the connection was closed", FailureText.of(new ClosedChannelException()));
        assertEquals("timed out", FailureText.of(new TimeoutException()));
        assertEquals("NullPointerException", FailureText.of(new NullPointerException()));
        assertEquals("ExecutionException: the connection was closed",
            FailureText.of(new ExecutionException(null, new ClosedChannelException())));
        assertEquals("IOException", FailureText.of(new IOException("  ")));
        assertEquals("an unknown failure", FailureText.of(null));
        assertEquals("the host name does not resolve to an address",
            FailureText.of(new java.nio.channels.UnresolvedAddressException()));
    }

    @Test
    void aCycleOfCausesEnds() {
        IOException a = new IOException();
        IOException b = new IOException((String) null, a);
        a.initCause(b);
        String text = FailureText.of(b);
        assertTrue(text.startsWith("IOException: IOException"), text);
    }
}
