#!/usr/bin/env bash
# Every guest tier in one boot of the test guest: the ublk tier, the kernel-bridge conformance suite through
# ublk, the NVMe/TCP tier (Linux's host against the emulator), then the nvmet tier (jmpio's NVMe/TCP transport
# against Linux's nvmet). All run even if one
# fails; the exit status is non-zero if any did. JMPIO_GUEST_ROUNDS (default 2) runs them that many times in a
# row, to show they pass every time and not once by luck.
cd "$(dirname "$0")"
rounds=${JMPIO_GUEST_ROUNDS:-2}
rc=0
for round in $(seq 1 "$rounds"); do
  echo "=== guest tiers, round $round of $rounds"
  ./ublk-tier.sh || rc=1
  ./conformance-tier.sh || rc=1
  ./nvme-tier.sh || rc=1
  ./nvmet-tier.sh || rc=1
done
echo "guest tiers: $([ $rc = 0 ] && echo "all passed, $rounds rounds" || echo "FAILED")"
exit $rc
