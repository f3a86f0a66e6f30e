/**
 * One controller of the pair, one job per class. {@link io.jmpio.emu.controller.Controller}: life cycle and the
 * faults it takes; {@code PeerWatch} and {@code PeerMonitor} (heartbeats, the mailbox tie-breaker, what follows a
 * verdict on the peer); {@code HostRequests} (the one route of a host's request, whatever its protocol), with
 * {@code IoCheck} (every field of a request checked) and {@code AccessTable} (ALUA/ANA states and their notices).
 * Around them: {@code OwnerIo} (the owner's reads, cached and mirrored writes, flushes), {@code Nvram} (cache
 * slots and the journal), {@code Destager}, {@code Shipper} and {@code MirrorGrants} (I/O shipped to the owner
 * and the owner's storage positions of shipped writes), {@code LocalReads} (the non-owner's reads under a lease),
 * {@code WriteStreams} (writes whose data follows the command), {@code LinkMessages} (what the peer sends),
 * {@code Ownership} (resync, takeover, moves, failback), {@code MetadataFollower} (the LUNs kept in step with
 * the array metadata), {@code HostRegistry} (hosts recorded in it), {@code PauseGate} (what a paused controller
 * holds, released in order), {@code LunAdmin} and {@code StatusReport}.
 */
package io.jmpio.emu.controller;
