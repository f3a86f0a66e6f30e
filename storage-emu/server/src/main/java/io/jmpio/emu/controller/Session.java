package io.jmpio.emu.controller;

/** One host connection on a front-end port; {@code host} is set by REGISTER. */
final class Session {
    final String remote;
    final long connectedAtMillis = System.currentTimeMillis();
    volatile String host;
    /** Bytes of this connection's requests in progress (see the controller's budget). */
    final java.util.concurrent.atomic.AtomicLong inflightBytes = new java.util.concurrent.atomic.AtomicLong();

    Session(String remote) {
        this.remote = remote;
    }
}
