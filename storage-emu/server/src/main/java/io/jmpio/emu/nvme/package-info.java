/**
 * The array's NVMe/TCP front end (NVMe/TCP transport 1.0, NVMe base 2.x: the parts an initiator needs):
 * PDU framing and digests ({@link io.jmpio.emu.nvme.PduCodec}), one connection's queue
 * ({@link io.jmpio.emu.nvme.QueueHandler}), the admin state of one host association
 * ({@link io.jmpio.emu.nvme.NvmeController}), identify data and log pages, and the subsystem that ties one
 * array controller's ports, controllers and ANA notices together ({@link io.jmpio.emu.nvme.NvmeSubsystem}).
 * Block I/O goes through {@code Controller.hostIo}: the same checks, owner path and shipping as every host.
 */
package io.jmpio.emu.nvme;
