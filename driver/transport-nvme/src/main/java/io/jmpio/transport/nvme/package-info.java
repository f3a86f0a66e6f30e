/**
 * An NVMe/TCP host, as a plugin of the path-transport SPI: the PDU layouts and their one codec
 * ({@code Pdu}, {@code PduCodec}), a queue pair per TCP connection ({@code QueuePair}: ICReq, Fabrics Connect,
 * command identifiers as tags, in-capsule data or R2T/H2CData, C2HData), the admin side of a controller
 * ({@code AdminQueue}: enable, Identify, features, logs, keep alive, asynchronous events), discovery with
 * referrals ({@code DiscoveryLog}), ANA ({@code AnaLog}), and the transport itself ({@code NvmeTcpTransport}).
 */
package io.jmpio.transport.nvme;
