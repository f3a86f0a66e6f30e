#!/usr/bin/env bash
# Every guest tier in one boot of the test guest: the ublk tier, the NVMe/TCP tier (Linux's host against the
# emulator), then the nvmet tier (jmpio's NVMe/TCP transport against Linux's nvmet). All run even if one
# fails; the exit status is non-zero if any did.
cd "$(dirname "$0")"
rc=0
./ublk-tier.sh || rc=1
./nvme-tier.sh || rc=1
./nvmet-tier.sh || rc=1
echo "guest tiers: $([ $rc = 0 ] && echo "all passed" || echo "FAILED")"
exit $rc
