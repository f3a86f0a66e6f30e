/**
 * The multipath device: paths discovered from the array's port-group report, grouped by ALUA state, a
 * private connection per I/O queue and path, failover and retry, the path checker, marginal-path
 * detection, no-path queueing and statistics. {@link io.jmpio.core.MultipathDevice} is the entry point;
 * everything else here is package-private.
 */
package io.jmpio.core;
