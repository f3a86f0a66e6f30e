/** The built-in balancing policies, each a {@link io.jmpio.api.BalancingPolicyProvider} found by ServiceLoader. */
package io.jmpio.policies;
