/**
 * Credentials of the array: the secret its two controllers share to authenticate the inter-controller link,
 * and the bearer token of the admin endpoints. Both live in the data directory, created owner-only (mode 0600)
 * at first start, and are refused when other users can read them.
 */
package io.jmpio.emu.security;
