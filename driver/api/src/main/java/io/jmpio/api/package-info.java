/**
 * What plugin writers compile against, and nothing else: the userspace {@link io.jmpio.api.BlockDevice}
 * every kernel bridge calls, and the {@link io.jmpio.api.BalancingPolicy} SPI that chooses a path.
 */
package io.jmpio.api;
