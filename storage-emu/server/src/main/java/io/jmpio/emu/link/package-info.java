/**
 * The inter-controller link: several logical channels between the two controllers of a pair (management
 * and heartbeat, I/O shipping, cache mirroring), each its own TCP connection with its own queue, so a large
 * mirror transfer never waits in front of a heartbeat. Transfers are described by descriptors
 * (source, destination, length) in {@link io.jmpio.emu.link.LinkFrame}.
 */
package io.jmpio.emu.link;
