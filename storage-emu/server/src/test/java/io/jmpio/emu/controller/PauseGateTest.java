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

    @Test
    void aHeldTaskThatFailsNeitherKeepsTheGateClosedNorLosesTheOthers() {
        PauseGate gate = new PauseGate();
        List<String> ran = new CopyOnWriteArrayList<>();
        gate.close();
        assertTrue(gate.hold(() -> {
            throw new IllegalStateException("a handler's bug");
        }));
        assertTrue(gate.hold(() -> ran.add("after the failure")));
        gate.open();
        assertEquals(List.of("after the failure"), ran);
        assertFalse(gate.closed(), "the gate opens even though a held task failed");
    }

    @Test
    void anAnswerHeldOverAPauseCompletesOnResumeWithWhatTheHandlerAnswersThenOrHowItFailed() throws Exception {
        PauseGate gate = new PauseGate();
        assertEquals(null, gate.answerOnResume(() -> CompletableFuture.completedFuture("now")),
            "an open gate holds nothing: the caller serves the request itself");
        gate.close();
        CompletableFuture<String> answered = gate.answerOnResume(() -> CompletableFuture.completedFuture("on resume"));
        CompletableFuture<String> thrown = gate.answerOnResume(() -> {
            throw new IllegalArgumentException("refused");
        });
        CompletableFuture<String> pending = new CompletableFuture<>();
        CompletableFuture<String> later = gate.answerOnResume(() -> pending);
        assertFalse(answered.isDone(), "nothing is answered while paused");
        gate.open();
        assertEquals("on resume", answered.get(5, TimeUnit.SECONDS));
        assertTrue(thrown.isCompletedExceptionally(), "a handler that throws fails its answer");
        assertFalse(later.isDone(), "an answer given later completes later");
        pending.complete("late");
        assertEquals("late", later.get(5, TimeUnit.SECONDS));
    }
}
