/**
 * The path-transport SPI: how the multipath core reaches storage, whatever the wire protocol. A
 * {@link io.jmpio.transport.PathTransport} (found by {@link java.util.ServiceLoader} through
 * {@link io.jmpio.transport.PathTransportProvider}) discovers the target and its ports from one portal, opens a
 * control session on each path ({@link io.jmpio.transport.PathSession}: probes, access states, change notices)
 * and, per I/O queue and path, a private connection ({@link io.jmpio.transport.QueueChannel}) whose commands
 * complete on the queue's event loop. The core never sees a byte of any protocol.
 */
package io.jmpio.transport;
