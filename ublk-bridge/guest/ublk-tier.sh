#!/usr/bin/env bash
# The ublk test tier, run as root inside the ublk guest (guest.sh) against the host's build:
#   /dev/ublkb0 on the multipath device against the emulator (two controllers, over NVMe/TCP): fio verify, fio verify
#   with controller A killed mid-write, ext4 mkfs/mount/write/sync/umount/e2fsck/remount/compare, detach
#   refused while mounted, kill -9 of jmpio and --recover with the file system mounted, clean detach.
# Prints PASS/FAIL per check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
. ublk-bridge/guest/tier-lib.sh
W=$(mktemp -d /tmp/ublk-tier.XXXXXX)
JM=bin/jmpio
export JMPIO_RUN_DIR=$W/run
fail() { echo "FAIL: $*"; for f in "$W"/*.log; do echo "--- $f"; tail -30 "$f"; done; exit 1; }
# wait_file FILE [PID]: until FILE has content; fails early when PID (the writer) has exited.
wait_file() {
  for _ in $(seq 1 "$(paced 900)"); do
    [ -s "$1" ] && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then fail "process $2 ended before writing $1"; fi
    sleep 0.2
  done
  fail "timed out waiting for $1"
}
cleanup() {
  set +e
  mountpoint -q "$W/mnt" && umount -l "$W/mnt"
  pkill -f "jmpio.jar attach" ; sleep 1; pkill -9 -f "jmpio.jar" ; true
}
trap cleanup EXIT

[ -e /dev/ublk-control ] || fail "no /dev/ublk-control in the guest"

step "array"
# Everything runs 10x slower under TCG: timers are stretched so slowness is not taken for failure.
$JM emu start --base-port 0 --data-dir "$W/array" --lun lun0:256M:A --ready-file "$W/array.json" \
  --heartbeat-interval 500 --heartbeat-timeout "$(paced 4000)" > "$W/array.log" 2>&1 &
wait_file "$W/array.json" $!
# the multipath device reaches the array over NVMe/TCP: every path from the discovery log of A's first port
PORTAL=$(json "$W/array.json" ".controllers[0].ports[0]")
ADMIN_A=$(json "$W/array.json" ".controllers[0].admin")
sleep "$(paced 3)"   # the controllers link up and learn each other's NVMe/TCP ports (the discovery log lists all four)

attach() { # attach NAME [extra args]
  local name=$1; shift
  rm -f "$W/$name.json"
  $JM attach --transport nvme-tcp --portal "$PORTAL" --host-id nqn.2014-08.io.jmpio:guest --name lun0 --bridge ublk --bridge-option queues=2 \
    --probe-timeout "$(paced 5000)" --io-timeout "$(paced 15000)" --connect-timeout "$(paced 15000)" --check-interval 1000 --scan-interval 5000 \
    --ready-file "$W/$name.json" --control "$W/ctl.sock" "$@" > "$W/$name.log" 2>&1 &
  echo $! > "$W/$name.pid"
  wait_file "$W/$name.json" "$(cat "$W/$name.pid")"
  DEV=$(json "$W/$name.json" ".device")
}

step "attach"
attach attach1
[ -b "$DEV" ] || fail "$DEV is not a block device"
[ "$(blockdev --getsize64 "$DEV")" = $((256 << 20)) ] || fail "size of $DEV"
pass "attached $DEV ($(json "$W/attach1.json" ".flags"))"

step "fio verify"
FIO=(fio --name=v --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=16
     --size=16m --verify=crc32c --verify_fatal=1 --do_verify=1)
"${FIO[@]}" --output-format=json > "$W/fio1.json" 2> "$W/fio1.log" || fail "fio verify: $(cat "$W/fio1.log")"
read -r ERR WMS IOPS < <(jq -r '.jobs[0] | "\(.error) \(.write.runtime) \(.write.iops | floor)"' "$W/fio1.json")
[ "$ERR" = 0 ] || fail "fio reported error $ERR"
pass "fio randwrite + crc32c verify (writes: $IOPS IOPS in the guest, $WMS ms)"
# The second run writes 1.5x as much; the kill lands in the middle of its write phase.
KILL_AFTER=$(awk -v ms="$WMS" 'BEGIN { s = ms * 1.5 / 2 / 1000; printf "%.3f\n", (s > 0.5 ? s : 0.5) }')

step "fio verify with controller A killed during the writes"
"${FIO[@]}" --size=24m > "$W/fio2.log" 2>&1 &
FIOPID=$!
sleep "$KILL_AFTER"
fault kill A "$ADMIN_A" > "$W/kill.log" 2>&1 || fail "kill A"
wait $FIOPID || fail "fio with a controller killed"
grep -q "err= 0" "$W/fio2.log" || fail "fio reported errors after the kill"
grep -q "verify" "$W/fio2.log" || true
pass "fio verify across the kill of controller A ($KILL_AFTER s into the writes)"
fault restart A "$(json "$W/array.json" ".controllers[1].admin")" >> "$W/kill.log" 2>&1 || true

step "ext4"
mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4"
mkdir -p "$W/mnt"
mount "$DEV" "$W/mnt" || fail "mount"
for i in 1 2 3 4; do head -c $((2 << 20)) /dev/urandom > "$W/mnt/f$i"; done
(cd "$W/mnt" && sha256sum f1 f2 f3 f4) > "$W/sums"
sync
umount "$W/mnt"
e2fsck -fn "$DEV" > "$W/fsck1.log" 2>&1 || fail "e2fsck after the writes"
mount "$DEV" "$W/mnt"
(cd "$W/mnt" && sha256sum -c "$W/sums" > /dev/null) || fail "checksums after remount"
pass "mkfs, write, sync, umount, e2fsck clean, remount, checksums equal"

step "detach while mounted"
if $JM detach --control "$W/ctl.sock" > "$W/detach1.log" 2>&1; then fail "detach of a mounted device was not refused"; fi
grep -q "is mounted on" "$W/detach1.log" || fail "refusal does not say why: $(cat "$W/detach1.log")"
pass "detach refused: $(tail -1 "$W/detach1.log")"

step "kill -9 and --recover with the file system mounted"
DEVID=${DEV#/dev/ublkb}
kill -9 "$(cat "$W/attach1.pid")"
sleep 2
attach attach2 --recover "$DEVID"
[ "$DEV" = "/dev/ublkb$DEVID" ] || fail "recovered as $DEV"
head -c $((1 << 20)) /dev/urandom > "$W/mnt/after"
(cd "$W/mnt" && sha256sum -c "$W/sums" > /dev/null) || fail "old files after recovery"
sync
umount "$W/mnt"
e2fsck -fn "$DEV" > "$W/fsck2.log" 2>&1 || fail "e2fsck after recovery"
pass "recovered /dev/ublkb$DEVID, file system clean"

step "detach"
$JM detach --control "$W/ctl.sock" > "$W/detach2.log" 2>&1 || fail "detach"
for _ in $(seq 1 "$(paced 100)"); do kill -0 "$(cat "$W/attach2.pid")" 2>/dev/null || break; sleep 0.2; done
[ -e "$DEV" ] && fail "$DEV still there after detach"
ls /sys/class/ublk-char 2>/dev/null | grep -q . && fail "ublk char devices left: $(ls /sys/class/ublk-char)"
pass "detach left no device"
step "ALL PASSED"
