/**
 * Socket plumbing shared by the driver, the bridges and the emulator, and owned by none of them: the
 * event-loop transport ({@link io.jmpio.netty.NettyTransport}: io_uring, epoll or NIO) and the guard of every
 * listening socket ({@link io.jmpio.netty.ConnectionGuard}).
 */
package io.jmpio.netty;
