# Sourced by each guest tier: how much slower than usual the guest runs right now, so that a busy host (or a
# slower one) slows the tier down instead of failing it. A fixed CPU loop is timed; PACE is its time over the
# time it took in this guest on a quiet 2-core host when the tiers' timeouts were chosen (at least 1).
# `paced N` prints N * PACE rounded up: every timeout, wait and settle time of a tier goes through it.
# JMPIO_GUEST_PACE forces a factor.
pace_measure() {
  local t0 t1
  t0=$(date +%s%N)
  python3 -c 'x = 0
for i in range(2000000): x += i'
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
PACE_REF_MS=${PACE_REF_MS:-4800}
if [ -n "${JMPIO_GUEST_PACE:-}" ]; then
  PACE=$JMPIO_GUEST_PACE
  echo "=== guest pace: x$PACE (JMPIO_GUEST_PACE)"
else
  PACE_MS=$(pace_measure)
  PACE=$(awk -v ms="$PACE_MS" -v ref="$PACE_REF_MS" 'BEGIN { p = ms / ref; if (p < 1) p = 1; printf "%.2f", p }')
  echo "=== guest pace: the reference loop took $PACE_MS ms (quiet: $PACE_REF_MS ms): timeouts x$PACE"
fi
paced() { awk -v n="$1" -v p="$PACE" 'BEGIN { v = n * p; printf "%d", (v == int(v)) ? v : int(v) + 1 }'; }
