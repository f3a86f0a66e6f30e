package io.jmpio.emu.controller;

import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.cache.ExtentMap;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/** One controller's view of one LUN: its record as last read, its drive, and the caches kept for it. */
final class Lun {
    private final String controllerId;
    volatile LunRecord record;
    final BackingStore store;
    /** The owner's dirty write cache. */
    final ExtentMap cache = new ExtentMap();
    /** The mirror of the peer's write cache, while the peer owns the LUN (extents keep the owner's slots). */
    final ExtentMap mirror = new ExtentMap(true);
    /**
     * Non-owner: where the owner put each write this controller shipped and had mirrored (extents without data
     * whose slot is the owner's cache slot), pruned when the owner releases the slots at destage.
     */
    final ExtentMap shippedPositions = new ExtentMap(true);
    /**
     * Non-owner: the highest slot the owner revoked. A shipped write's reply that arrives after the revocation
     * (replies and revocations travel on different channels) names a slot at or below it: not recorded.
     */
    volatile long positionsRevokedUpTo = Long.MIN_VALUE;
    final ReentrantLock diskLock = new ReentrantLock();
    final AtomicInteger inflight = new AtomicInteger();
    /**
     * With {@code -Djmpio.debug.inflight=true}: every request in flight and what it is, so a move whose drain
     * times out can say which requests never finished (diagnostics; off by default: it costs a map entry each).
     */
    final java.util.Map<java.util.concurrent.CompletableFuture<?>, String> inflightDebug =
        Boolean.getBoolean("jmpio.debug.inflight") ? new java.util.concurrent.ConcurrentHashMap<>() : null;
    final AtomicBoolean moving = new AtomicBoolean();
    final LunStats stats = new LunStats();
    /** A LUN's backend never changes (its store is opened once), so neither does this: asked on every read. */
    private final boolean fileBacked;
    /** Owner: cache room promised to streamed writes whose data is still on its way. */
    final java.util.concurrent.atomic.AtomicLong reservedBytes = new java.util.concurrent.atomic.AtomicLong();
    volatile boolean transitioning;
    /** When the peer announced the transition now under way (clock nanos); it cannot last for ever. */
    volatile long transitionSinceNanos;
    /** When destage of this LUN first failed (clock nanos), 0 while it succeeds. */
    volatile long failingSinceNanos;
    volatile long releasedUpTo = Long.MIN_VALUE;
    /** Non-owner: when each recorded position's write was shipped (clock nanos), by slot: its lease starts there. */
    final java.util.concurrent.ConcurrentSkipListMap<Long, Long> positionShippedAt =
        new java.util.concurrent.ConcurrentSkipListMap<>();
    /** Owner: which of its cache slots the peer was told it may read from its mirror (see {@link MirrorGrants}). */
    final MirrorGrants.State grants = new MirrorGrants.State();
    /** Non-owner: the read lease the owner granted (see {@link LocalReads}). */
    final LocalReads.Lease lease = new LocalReads.Lease();

    Lun(String controllerId, LunRecord record, BackingStore store) {
        this.controllerId = controllerId;
        this.fileBacked = BackingStores.FILE.equals(record.backend());
        this.record = record;
        this.store = store;
    }

    boolean owned() {
        return controllerId.equals(record.owner());
    }

    boolean fileBacked() {
        return fileBacked;
    }

    String name() {
        return record.name();
    }

    int id() {
        return record.id();
    }
}
