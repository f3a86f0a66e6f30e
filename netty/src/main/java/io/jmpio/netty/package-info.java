/**
 * Socket plumbing shared by the driver, the bridges and the emulator, and owned by none of them: the
 * event-loop transport ({@link io.jmpio.netty.NettyTransport}: io_uring, epoll or NIO) and the guard of every
 * listening socket ({@link io.jmpio.netty.ConnectionGuard}), the syntax of HOST:PORT ({@link io.jmpio.netty.HostPort}),
 * the safe replacement of the files they hand to scripts ({@link io.jmpio.netty.AtomicFile}), peers' text made
 * fit for a log line ({@link io.jmpio.netty.PeerText}), and a failure named even when its exception has no message
 * ({@link io.jmpio.netty.FailureText}).
 */
package io.jmpio.netty;
