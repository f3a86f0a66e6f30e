package io.jmpio.emu.controller;

/** One host connection on a front-end port; {@code host} is set by REGISTER. */
final class Session {
    final String remote;
    final long connectedAtMillis = System.currentTimeMillis();
    volatile String host;

    Session(String remote) {
        this.remote = remote;
    }
}
