/**
 * Live control of a running device: the Unix-socket control server the {@code jmpio} commands talk to
 * (one JSON request line, one JSON reply line), its client, the text rendering of status, and the
 * Prometheus endpoint. Nothing here waits on a path: every command reads or flips device state.
 */
package io.jmpio.core.control;
