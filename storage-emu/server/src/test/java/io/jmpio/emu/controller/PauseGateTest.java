package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PauseGateTest {
    @Test
    void whatArrivesWhileTheHeldWorkRunsRunsAfterItInOrder() throws Exception {
        PauseGate gate = new PauseGate();
        List<String> ran = new CopyOnWriteArrayList<>();
        assertFalse(gate.hold(() -> ran.add("never")), "an open gate holds nothing");
        gate.close();
        CompletableFuture<Boolean> lateArrival = new CompletableFuture<>();
        assertTrue(gate.hold(() -> {
            ran.add("held 1");
            // while the first held task runs after the resume, another arrives on another thread (an event loop)
            Thread t = new Thread(() -> lateArrival.complete(gate.hold(() -> ran.add("arrived during release"))));
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertTrue(gate.hold(() -> ran.add("held 2")));
        gate.open();
        assertTrue(lateArrival.get(5, TimeUnit.SECONDS), "work arriving while the held work runs waits its turn");
        assertEquals(List.of("held 1", "held 2", "arrived during release"), ran);
        assertFalse(gate.closed());
        assertFalse(gate.hold(() -> ran.add("runs at once")));

        gate.close();
        assertTrue(gate.hold(() -> ran.add("dropped")));
        gate.clear();
        gate.open();
        assertFalse(ran.contains("dropped"), "a stop drops what was held");
    }
}
