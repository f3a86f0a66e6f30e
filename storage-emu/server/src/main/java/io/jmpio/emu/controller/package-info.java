/**
 * One controller of the pair: its front-end ports and host sessions, ownership and ALUA states, the owner's
 * execution of I/O (write cache mirrored to the peer, destage, read cache), shipping of I/O that lands on
 * the non-owner, heartbeats and the mailbox tie-breaker, takeover, ownership moves, failback, automatic
 * ownership transfer, and the faults it can be told to suffer.
 */
package io.jmpio.emu.controller;
