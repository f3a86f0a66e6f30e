#!/usr/bin/env bash
# The foreign-target tier, run as root inside the test guest (guest.sh): jmpio's NVMe/TCP transport against
# Linux's own nvmet. nvmet is configured through configfs: one subsystem, one namespace on a file, two TCP
# ports whose ANA states differ (port 1 optimized, port 2 non-optimized), and a discovery referral from port 1
# to port 2 (nvmet's discovery log lists only the port asked). jmpio attach --portal <port 1> finds both paths;
# I/O goes to the optimized one; when the ANA states are flipped through configfs I/O moves without errors;
# when a port is removed I/O continues on the other; fio crc32c verify runs across all of it, then ext4 is made,
# written and checked by e2fsck, all through jmpio's ublk device. Prints PASS/FAIL per check.
set -euo pipefail
cd "$(dirname "$0")/../.."
. ublk-bridge/guest/tier-lib.sh
W=$(mktemp -d /tmp/nvmet-tier.XXXXXX)
JM=bin/jmpio
export JMPIO_RUN_DIR=$W/run
CFG=/sys/kernel/config/nvmet
NQN=nqn.2026-11.io.jmpio:nvmet-tier
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6a6d7069-6f00-4e56-4d65-000000000002
fail() {
  echo "FAIL: $*"
  curl -s --max-time 30 "http://$METRICS/status" 2>/dev/null | jq . 2>/dev/null | head -80 || true
  for f in "$W"/*.log; do echo "--- $f"; tail -40 "$f"; done
  dmesg | grep -i nvmet | tail -20 || true
  exit 1
}
METRICS=127.0.0.1:9465
# every request has a deadline: a status endpoint that stopped answering must fail the wait, not hang the tier
status() { curl -sf --max-time "$(paced 20)" "http://$METRICS/status"; }
# in_use: the ids of the paths carrying I/O now, comma-separated
in_use() {
  status | jq -er '[.groups[].paths[] | select(.inUse) | .id] | join(",")'
}
path_ios() { # path_ios ID
  status | jq -er --arg id "$1" '[.groups[].paths[] | select(.id == $id) | .ios] | add // 0'
}
in_use_is() { [ "$(in_use)" = "$1" ]; } # in_use_is IDS
ios_above() { local n; n=$(path_ios "$1") && [ "$n" -gt "$2" ]; } # ios_above ID COUNT
# io_moves ID COUNT: path ID has carried more than COUNT I/Os. A fast guest can finish fio before the ANA flip
# and the port removal are done; then reads of our own keep I/O flowing, so that the path carrying it shows
# (a read that fails or hangs is an error that reached the application).
io_moves() {
  ios_above "$1" "$2" && return 0
  if ! kill -0 "$FIOPID" 2>/dev/null; then
    timeout "$(paced 60)" dd if="$DEV" of=/dev/null bs=4k count=256 iflag=direct status=none 2>> "$W/dd.log" \
      || fail "reads through $DEV after fio ended: $(tail -2 "$W/dd.log")"
  fi
  ios_above "$1" "$2"
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: SECONDS (paced) of the clock, however long one try takes
  local secs what deadline
  secs=$(paced "$1"); what=$2; shift 2
  deadline=$(( $(date +%s) + secs ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after $secs s waiting for: $what"
    sleep 0.2
  done
}
cleanup() {
  set +e
  mountpoint -q "$W/mnt" && umount -l "$W/mnt"
  pkill -f "jmpio.jar attach"; sleep 1; pkill -9 -f "jmpio.jar"
  for p in 1 2; do
    rm -f $CFG/ports/$p/subsystems/$NQN 2>/dev/null
    rmdir $CFG/ports/$p/referrals/* 2>/dev/null
    rmdir $CFG/ports/$p 2>/dev/null
  done
  echo 0 > $CFG/subsystems/$NQN/namespaces/1/enable 2>/dev/null
  rmdir $CFG/subsystems/$NQN/namespaces/1 $CFG/subsystems/$NQN 2>/dev/null
  mountpoint -q "$W/t" && umount -l "$W/t"
  true
}
trap cleanup EXIT

[ -e /dev/ublk-control ] || fail "no /dev/ublk-control in the guest"
for m in nvmet nvmet_tcp; do [ -d /sys/module/$m ] || fail "kernel module $m is not loaded in the guest"; done

step "nvmet: one subsystem, one namespace, two ports, a referral"
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
mkdir -p "$W/t" && mount -t tmpfs -o size=300m tmpfs "$W/t"   # nvmet's file backend needs a real file system
truncate -s 256M "$W/t/ns.img"
S=$CFG/subsystems/$NQN
mkdir -p "$S/namespaces/1"
echo 1 > "$S/attr_allow_any_host"
echo "$W/t/ns.img" > "$S/namespaces/1/device_path"
echo 1 > "$S/namespaces/1/buffered_io"
echo 1 > "$S/namespaces/1/enable"
for p in 1 2; do
  mkdir -p $CFG/ports/$p
  echo tcp > $CFG/ports/$p/addr_trtype; echo ipv4 > $CFG/ports/$p/addr_adrfam
  echo 127.0.0.1 > $CFG/ports/$p/addr_traddr; echo $((4419 + p)) > $CFG/ports/$p/addr_trsvcid
done
R=$CFG/ports/1/referrals/to-port-2
mkdir -p "$R"
echo tcp > "$R/addr_trtype"; echo ipv4 > "$R/addr_adrfam"; echo 127.0.0.1 > "$R/addr_traddr"; echo 4421 > "$R/addr_trsvcid"
[ -e "$R/portid" ] && echo 2 > "$R/portid"
echo 1 > "$R/enable"
for p in 1 2; do ln -s "$S" $CFG/ports/$p/subsystems/; done
echo non-optimized > $CFG/ports/2/ana_groups/1/ana_state
pass "nvmet up: port 1 optimized, port 2 non-optimized, referral 1 -> 2"

# round 2 of tiers.sh: header and data digests on every queue (our CRC32C against nvmet's)
DIGEST=none; WITH=""
if [ "${JMPIO_TIER_DIGESTS:-}" = 1 ]; then DIGEST=both; WITH=", header and data digests"; fi
step "attach through port 1${WITH}"
$JM attach --transport nvme-tcp --transport-option "digest=$DIGEST" --portal 127.0.0.1:4420 --host-id "$HOSTNQN" --bridge ublk --bridge-option queues=2 \
  --probe-timeout "$(paced 5000)" --io-timeout "$(paced 15000)" --connect-timeout "$(paced 15000)" --check-interval 1000 --scan-interval 5000 --metrics-listen "$METRICS" \
  --ready-file "$W/attach.json" --control "$W/ctl.sock" > "$W/attach.log" 2>&1 &
APID=$!
for _ in $(seq 1 "$(paced 900)"); do [ -s "$W/attach.json" ] && break; kill -0 $APID 2>/dev/null || fail "attach ended"; sleep 0.2; done
[ -s "$W/attach.json" ] || fail "attach did not become ready"
DEV=$(json "$W/attach.json" ".device")
[ -b "$DEV" ] || fail "$DEV is not a block device"
[ "$(blockdev --getsize64 "$DEV")" = $((256 << 20)) ] || fail "size of $DEV: $(blockdev --getsize64 "$DEV")"
N=$(status | jq -er '[.groups[].paths | length] | add // 0')
[ "$N" = 2 ] || fail "jmpio found $N paths through port 1 and its referral, expected 2"
wait_for 60 "I/O on the optimized path only" in_use_is P1
pass "attached $DEV: 2 paths from one portal (the second by referral), I/O on P1 (optimized)${WITH}"

step "fio verify while the ANA states flip and a port goes"
FIO=(fio --name=v --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=16
     --size=32m --verify=crc32c --verify_fatal=1 --do_verify=1 --loops=4)
"${FIO[@]}" > "$W/fio.log" 2>&1 &
FIOPID=$!
wait_for 120 "I/O on P1" io_moves P1 "200"
echo non-optimized > $CFG/ports/1/ana_groups/1/ana_state
echo optimized > $CFG/ports/2/ana_groups/1/ana_state
wait_for 120 "I/O moved to P2" in_use_is P2
P2=$(path_ios P2)
wait_for 120 "I/O on P2 after the flip" io_moves P2 "$((P2 + 200))"
pass "ANA flipped through configfs: I/O moved to P2"
rm $CFG/ports/2/subsystems/$NQN
P1=$(path_ios P1)
wait_for 180 "I/O back on P1 after port 2 went" io_moves P1 "$((P1 + 200))"
pass "port 2 removed: I/O continues on P1"
wait $FIOPID || fail "fio verify across the flips: $(tail -5 "$W/fio.log")"
grep -q "err= 0" "$W/fio.log" || fail "fio reported errors"
pass "fio randwrite + crc32c verify across the ANA flip and the port removal: no errors"

step "ext4"
mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4"
mkdir -p "$W/mnt"
mount "$DEV" "$W/mnt" || fail "mount"
for i in 1 2 3; do head -c $((2 << 20)) /dev/urandom > "$W/mnt/f$i"; done
(cd "$W/mnt" && sha256sum f1 f2 f3) > "$W/sums"
sync
umount "$W/mnt"
e2fsck -fn "$DEV" > "$W/fsck.log" 2>&1 || fail "e2fsck: $(tail -5 "$W/fsck.log")"
mount "$DEV" "$W/mnt"
(cd "$W/mnt" && sha256sum -c "$W/sums" > /dev/null) || fail "checksums after remount"
umount "$W/mnt"
# nvmet's file namespace on tmpfs cannot zero ranges: jmpio says "not supported" (EOPNOTSUPP) and the kernel
# writes the zeroes itself; an errno the block layer does not know would show as "invalid error"
! dmesg | grep -q "invalid error, dev ublkb" || fail "the kernel got an errno it does not know: $(dmesg | grep 'invalid error' | tail -2)"
pass "ext4 through jmpio on nvmet: mkfs, write, e2fsck clean, checksums equal; unsupported commands said so"

step "detach"
$JM detach --control "$W/ctl.sock" > "$W/detach.log" 2>&1 || fail "detach"
pass "detached"
echo "=== [$(( $(date +%s) - T0 )) s] ALL PASSED"
