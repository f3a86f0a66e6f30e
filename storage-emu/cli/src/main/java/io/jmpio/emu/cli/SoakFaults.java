package io.jmpio.emu.cli;

import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.Controller;
import io.jmpio.netty.FailureText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The soak's fault catalogue on one in-process array and device: picks the next fault from a seeded random
 * source, injects it and later takes it back. At most one controller-level fault (kill, pause, restart, link
 * partition) is active at a time and at most one port is down, so some path always exists; small faults
 * (latency, flaky ports) pile up freely. Every injection and its undo is a {@link Event} of the timeline.
 */
final class SoakFaults {
    /** One fault as the timeline records it. */
    record Event(double atSeconds, String kind, String target, String note) {
    }

    /** A fault in effect, and what takes it back. */
    private record Active(String kind, String target, long untilNanos, boolean big, Undo undo) {
    }

    private interface Undo {
        void run() throws Exception;
    }

    static final String[] KINDS = {"kill", "pause", "restart", "partition", "port-down", "port-latency",
        "link-latency", "flaky", "move", "policy"};
    private static final int[] WEIGHTS = {3, 3, 2, 2, 3, 2, 2, 2, 2, 2};
    private static final String[] POLICIES = {"round-robin", "queue-length", "service-time", "least-blocks", "failover"};

    private final ArrayServer array;
    private final MultipathDevice device;
    private final SplittableRandom rnd;
    private final long t0;
    private final List<Active> active = new ArrayList<>();
    final List<Event> events = new ArrayList<>();
    final Map<String, Integer> counts = new LinkedHashMap<>();
    /** When the last controller-level fault or move ended (nanos), for telling injected takeovers from others. */
    volatile long lastBigChangeNanos;

    /** The kinds of fault this run draws from (all by default; {@code jmpio soak --faults} narrows them). */
    private final java.util.Set<String> kinds;

    SoakFaults(ArrayServer array, MultipathDevice device, long seed, long t0, java.util.Set<String> kinds) {
        this.kinds = kinds;
        this.array = array;
        this.device = device;
        this.rnd = new SplittableRandom(seed);
        this.t0 = t0;
        this.lastBigChangeNanos = t0;
    }

    /** Milliseconds to wait before the next fault. */
    long nextGapMillis() {
        return 300 + rnd.nextLong(2200);
    }

    /** True while a controller-level fault is in effect. */
    synchronized boolean bigFaultActive() {
        return active.stream().anyMatch(Active::big);
    }

    /** Takes back every fault whose time is up. */
    synchronized void expire(long now) {
        for (int i = 0; i < active.size(); i++) {
            Active a = active.get(i);
            if (now - a.untilNanos() >= 0) {
                active.remove(i--);
                undo(a, now);
            }
        }
    }

    /** Takes back everything still in effect (the end of the run). */
    synchronized void undoAll(long now) {
        for (Active a : new ArrayList<>(active)) {
            undo(a, now);
        }
        active.clear();
    }

    private void undo(Active a, long now) {
        try {
            a.undo().run();
            record(now, "end " + a.kind(), a.target(), "");
        } catch (Exception e) {
            record(now, "end " + a.kind(), a.target(), "failed: " + FailureText.of(e));
        }
        if (a.big()) {
            lastBigChangeNanos = System.nanoTime();
        }
    }

    /** Injects the next fault the seed picks (or, when it cannot be injected now, records why not). */
    synchronized void injectNext(long now) {
        String kind = pick();
        long until = now + (400 + rnd.nextLong(3600)) * 1_000_000L;
        String ctl = rnd.nextBoolean() ? "A" : "B";
        Controller c = array.controller(ctl);
        boolean big = kind.equals("kill") || kind.equals("pause") || kind.equals("restart") || kind.equals("partition");
        if (big && bigFaultActive()) {
            kind = "port-latency"; // one controller-level fault at a time: some controller always serves
            big = false;
        }
        try {
            switch (kind) {
                case "kill":
                    c.kill();
                    add(now, kind, ctl, until, true, c::start);
                    return;
                case "pause":
                    c.pause();
                    add(now, kind, ctl, until, true, c::resume);
                    return;
                case "restart":
                    c.restart();
                    record(now, kind, ctl, "");
                    lastBigChangeNanos = System.nanoTime();
                    return;
                case "partition":
                    array.controller("A").partitionLink();
                    array.controller("B").partitionLink();
                    add(now, kind, "link", until, true, () -> {
                        array.controller("A").healLink();
                        array.controller("B").healLink();
                    });
                    return;
                case "port-down": {
                    if (active.stream().anyMatch(a -> a.kind().equals("port-down")) || c.state() != Controller.State.RUNNING) {
                        record(now, "skipped port-down", ctl, "a port is down already, or the controller is not running");
                        return;
                    }
                    String port = c.portAddresses().get(rnd.nextInt(c.portAddresses().size()));
                    c.setPortDown(port, true);
                    add(now, kind, port, until, false, () -> c.setPortDown(port, false));
                    return;
                }
                case "port-latency": {
                    String port = c.portAddresses().get(rnd.nextInt(c.portAddresses().size()));
                    long ms = 1 + rnd.nextLong(30);
                    c.setPortLatency(port, ms);
                    add(now, kind + " " + ms + "ms", port, until, false, () -> c.setPortLatency(port, 0));
                    return;
                }
                case "link-latency": {
                    long ms = 1 + rnd.nextLong(20);
                    array.controller("A").setLinkLatency(ms);
                    add(now, kind + " " + ms + "ms", "link", until, false, () -> array.controller("A").setLinkLatency(0));
                    return;
                }
                case "flaky": {
                    String port = c.portAddresses().get(rnd.nextInt(c.portAddresses().size()));
                    String mode = new String[] {"error", "drop", "mixed"}[rnd.nextInt(3)];
                    double rate = 0.01 + rnd.nextDouble() * 0.1;
                    c.setPortFlaky(port, rate, mode);
                    add(now, kind + " " + mode, port, until, false, () -> c.setPortFlaky(port, 0, "mixed"));
                    return;
                }
                case "move": {
                    if (bigFaultActive()) {
                        record(now, "skipped move", "lun0", "a controller-level fault is in effect");
                        return;
                    }
                    String owner = array.metadata().load().byName("lun0").owner();
                    String to = owner.equals("A") ? "B" : "A";
                    array.controller(owner).moveLun("lun0", to);
                    lastBigChangeNanos = System.nanoTime();
                    record(now, kind, "lun0 " + owner + "->" + to, "");
                    return;
                }
                default: {
                    String p = POLICIES[rnd.nextInt(POLICIES.length)];
                    device.setPolicy(p, Map.of());
                    record(now, kind, p, "");
                }
            }
        } catch (Exception e) {
            // a refusal is a result too (a move while the pair is not in sync, a port of a stopped controller)
            record(now, kind, ctl, "not injected: " + FailureText.of(e));
        }
    }

    private String pick() {
        int total = 0;
        for (int i = 0; i < KINDS.length; i++) {
            total += kinds.contains(KINDS[i]) ? WEIGHTS[i] : 0;
        }
        int r = rnd.nextInt(total);
        for (int i = 0; i < KINDS.length; i++) {
            r -= kinds.contains(KINDS[i]) ? WEIGHTS[i] : 0;
            if (r < 0) {
                return KINDS[i];
            }
        }
        throw new IllegalStateException("no fault kind to draw from");
    }

    private void add(long now, String kind, String target, long until, boolean big, Undo undo) {
        active.add(new Active(kind, target, until, big, undo));
        record(now, kind, target, "");
        if (big) {
            lastBigChangeNanos = System.nanoTime();
        }
    }

    private void record(long now, String kind, String target, String note) {
        events.add(new Event((now - t0) / 1e9, kind, target, note));
        if (!kind.startsWith("end ") && !kind.startsWith("skipped") && !note.startsWith("not injected")) {
            counts.merge(kind.split(" ")[0], 1, Integer::sum);
        }
    }
}
