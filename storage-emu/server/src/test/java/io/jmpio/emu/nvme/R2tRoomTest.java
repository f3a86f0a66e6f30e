package io.jmpio.emu.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class R2tRoomTest {
    private static final long LIMIT = 1_000;

    private final List<String> events = new ArrayList<>();

    private void ask(R2tRoom room, String name, long length, long now) {
        room.whenRoom(length, now, () -> events.add("start " + name), () -> events.add("refuse " + name));
    }

    @Test
    void queuesShareTheFrontEndsRoomAndWaitersStartInOrderAsItComesBack() {
        R2tRoom.Shared shared = new R2tRoom.Shared(100);
        R2tRoom one = new R2tRoom(shared, Runnable::run, 80, LIMIT);
        R2tRoom two = new R2tRoom(shared, Runnable::run, 80, LIMIT);
        ask(one, "a", 60, 0);
        ask(two, "b", 30, 0); // 90 held: fits
        ask(two, "c", 20, 0); // 110 would be held: waits
        ask(two, "d", 5, 0);  // would fit, but waits behind c: order is kept
        assertEquals(List.of("start a", "start b"), events);
        assertEquals(90, shared.held());

        one.giveBack(60, 10); // another queue's room: the waiting queue is woken
        assertEquals(List.of("start a", "start b", "start c", "start d"), events);
        assertEquals(55, shared.held());

        ask(one, "e", 81, 30); // more than one queue may ever hold
        assertEquals("refuse e", events.get(events.size() - 1));
    }

    @Test
    void queuesWaitingForRoomAreWokenInTurnSoNoneWaitsOutTheOthers() {
        R2tRoom.Shared shared = new R2tRoom.Shared(10);
        java.util.ArrayDeque<Runnable> loopOfTwo = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Runnable> loopOfThree = new java.util.ArrayDeque<>();
        R2tRoom one = new R2tRoom(shared, Runnable::run, 10, LIMIT);
        R2tRoom two = new R2tRoom(shared, loopOfTwo::add, 10, LIMIT);
        R2tRoom three = new R2tRoom(shared, loopOfThree::add, 10, LIMIT);
        ask(one, "a", 10, 0);
        ask(two, "b", 10, 0);   // waits, first in line
        ask(three, "c", 10, 0); // waits, second
        one.giveBack(10, 1);
        assertTrue(loopOfThree.isEmpty(), "one wake per room given back, to the first in line");
        loopOfTwo.poll().run();
        assertEquals(List.of("start a", "start b"), events);
        two.giveBack(10, 2);
        loopOfThree.poll().run();
        assertEquals(List.of("start a", "start b", "start c"), events);
    }

    @Test
    void aCommandThatWaitedPastTheLimitIsRefusedAndOneQueuesCloseGivesEverythingBackOnce() {
        R2tRoom.Shared shared = new R2tRoom.Shared(100);
        R2tRoom room = new R2tRoom(shared, Runnable::run, 100, LIMIT);
        ask(room, "a", 100, 0);
        ask(room, "b", 10, 0);
        room.startWaiting(LIMIT);
        assertEquals(List.of("start a"), events, "waiting exactly the limit is still waiting");
        room.startWaiting(LIMIT + 1);
        assertEquals(List.of("start a", "refuse b"), events);
        assertTrue(room.busy());

        room.close();
        assertEquals(0, shared.held());
        room.giveBack(100, LIMIT + 2); // the transfer's own end, after the close: already given back
        assertEquals(0, shared.held());
        assertFalse(room.busy());
        ask(room, "c", 10, LIMIT + 3);
        assertEquals(2, events.size(), "a closed queue starts nothing");
    }
}
