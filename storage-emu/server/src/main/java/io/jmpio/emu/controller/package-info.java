/**
 * One controller of the pair, one job per class. {@link io.jmpio.emu.controller.Controller}: life cycle,
 * the watch on the peer (heartbeats, the mailbox tie-breaker) and the one route of a host's request.
 * Around it: {@code ArrayFrontEnd} (the array protocol's ports, sessions and port faults), {@code OwnerIo}
 * (the owner's reads, cached and mirrored writes, flushes), {@code Nvram} (cache slots and the journal),
 * {@code Destager}, {@code Shipper} and {@code MirrorGrants} (I/O shipped to the owner and the owner's
 * storage positions of shipped writes), {@code WriteStreams} (writes whose data follows the command),
 * {@code LinkMessages} (what the peer sends), {@code AccessTable} (ALUA/ANA states and their notices),
 * {@code Ownership} (resync, takeover, moves, failback), {@code LunAdmin} and {@code StatusReport}.
 */
package io.jmpio.emu.controller;
