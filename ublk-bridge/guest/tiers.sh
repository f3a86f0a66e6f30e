#!/usr/bin/env bash
# Every guest tier in one boot of the test guest: the ublk tier, then the NVMe/TCP tier. Both run even if
# the first fails; the exit status is non-zero if either did.
cd "$(dirname "$0")"
rc=0
./ublk-tier.sh || rc=1
./nvme-tier.sh || rc=1
echo "guest tiers: $([ $rc = 0 ] && echo "all passed" || echo "FAILED")"
exit $rc
