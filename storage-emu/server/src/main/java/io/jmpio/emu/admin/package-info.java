/**
 * The admin endpoint each controller answers (HTTP+JSON on loopback by default): status, LUN management,
 * hosts and sessions, statistics, fault injection. A request about the other controller is carried out
 * locally when both run in this process, else forwarded to the peer's admin endpoint.
 */
package io.jmpio.emu.admin;
