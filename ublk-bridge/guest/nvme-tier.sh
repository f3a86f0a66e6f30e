#!/usr/bin/env bash
# The NVMe/TCP tier, run as root inside the test guest (guest.sh), whose kernel has nvme-tcp with native
# multipath: Linux's own NVMe host against the emulator's NVMe/TCP target. nvme discover from one port lists
# all four; nvme connect-all gives one /dev/nvmeXnY with four paths; ana_state is optimized on A's paths and
# non-optimized on B's; fio crc32c verify runs through it while controller A is killed and restarted; ext4
# is made, written across a kill, and e2fsck is clean. Prints PASS/FAIL per check; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
. ublk-bridge/guest/tier-lib.sh
W=$(mktemp -d /tmp/nvme-tier.XXXXXX)
JM=bin/jmpio
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6a6d7069-6f00-4e56-4d65-000000000001
# kernel_messages N: the kernel's own view, its last N NVMe messages and any warning or oops (a splat names the
# code that failed)
kernel_messages() { dmesg | grep -iE "nvme|warning|bug|call trace|blk_" | tail -"$1" || true; }
fail() {
  echo "FAIL: $*"
  nvme list-subsys 2>&1 | tail -20 || true
  for f in "$W"/*.log; do echo "--- $f"; tail -40 "$f"; done
  kernel_messages 40
  exit 1
}
cleanup() {
  set +e
  mountpoint -q "$W/mnt" && umount -l "$W/mnt"
  nvme disconnect-all > /dev/null 2>&1
  pkill -f "jmpio.jar emu" ; sleep 1; pkill -9 -f "jmpio.jar" ; true
}
trap cleanup EXIT

for m in nvme_core nvme_fabrics nvme_tcp; do
  [ -d /sys/module/$m ] || fail "kernel module $m is not loaded in the guest"
done
[ -e /dev/nvme-fabrics ] || fail "no /dev/nvme-fabrics"
command -v nvme > /dev/null || fail "nvme-cli is not installed on the host (Debian: nvme-cli)"

step "array"
$JM emu start --base-port 0 --data-dir "$W/array" --lun lun0:256M:A --ready-file "$W/array.json" \
  --heartbeat-interval 500 --heartbeat-timeout "$(paced 4000)" > "$W/array.log" 2>&1 &
for _ in $(seq 1 "$(paced 900)"); do [ -s "$W/array.json" ] && break; sleep 0.2; done
[ -s "$W/array.json" ] || fail "the array did not start"
PORT=$(json "$W/array.json" ".controllers[0].ports[0]")
NQN=$(json "$W/array.json" ".subsystemNqn")
ADMIN_B=$(json "$W/array.json" ".controllers[1].admin")
sleep "$(paced 3)"   # the controllers link up and learn each other's ports

step "discover"
nvme discover -t tcp -a "${PORT%:*}" -s "${PORT##*:}" -q "$HOSTNQN" > "$W/discover.log" 2>&1 || fail "nvme discover"
N=$(grep -c "^trsvcid" "$W/discover.log" || true)
[ "$N" = 4 ] || fail "discovery from one port lists $N ports, expected 4"
pass "nvme discover from one port lists all four ports"

# round 2 of tiers.sh: header and data digests on every queue (Linux's CRC32C against the target's)
DIGESTS=(); WITH=""
if [ "${JMPIO_TIER_DIGESTS:-}" = 1 ]; then DIGESTS=(-g -G); WITH=", header and data digests"; fi
step "connect-all${WITH}"
nvme connect-all -t tcp -a "${PORT%:*}" -s "${PORT##*:}" -q "$HOSTNQN" "${DIGESTS[@]}" > "$W/connect.log" 2>&1 || fail "nvme connect-all"
DEV=""
for _ in $(seq 1 "$(paced 150)"); do
  for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
    for b in "$s"/nvme*n1; do [ -e "$b" ] && DEV=/dev/$(basename "$b"); done
  done
  [ -n "$DEV" ] && [ -b "$DEV" ] && break
  sleep 0.2
done
[ -n "$DEV" ] && [ -b "$DEV" ] || fail "no multipath namespace device for $NQN"
PATHS=$(ls -d /sys/block/nvme*c*n1 2>/dev/null | wc -l)
[ "$PATHS" = 4 ] || fail "$DEV has $PATHS paths, expected 4"
pass "nvme connect-all: $DEV with 4 paths${WITH}"
states=""
for _ in $(seq 1 "$(paced 50)"); do
  states=$(for p in /sys/block/nvme*c*n1; do cat "$p/ana_state"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  case "$states" in *"2 optimized"*"2 non-optimized"*|*"2 non-optimized"*"2 optimized"*) break ;; esac
  sleep 0.2
done
case "$states" in *"2 optimized"*) ;; *) fail "ANA states: $states" ;; esac
pass "ANA: 2 optimized (A), 2 non-optimized (B): $states"

step "fio verify with controller A killed and restarted"
# fio_across_kill N: one fio randwrite + crc32c verify while A is killed and restarted; fio's exit status.
fio_across_kill() {
  fio --name=verify --filename="$DEV" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k --iodepth=16 --size=48m \
    --verify=crc32c --verify_fatal=1 --do_verify=1 > "$W/fio-$1.log" 2>&1 &
  local pid=$! rc=0
  sleep "$(paced 8)"
  fault kill A "$ADMIN_B" > /dev/null || fail "kill A"
  sleep "$(paced 10)"
  fault restart A "$ADMIN_B" > /dev/null || fail "restart A"
  wait $pid || rc=$?
  return $rc
}
# all_paths_live: waits until the host has all four controllers live again (it reconnects every 10 s)
all_paths_live() {
  for _ in $(seq 1 "$(paced 60)"); do
    local s live=0
    for s in /sys/class/nvme-subsystem/nvme-subsys*; do
      [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
      live=$(cat "$s"/nvme*/state 2>/dev/null | grep -c live)
    done
    [ "$live" -ge 4 ] && return 0
    sleep 1
  done
  return 1
}
rc=0
fio_across_kill 1 || rc=$?
if [ $rc -gt 128 ]; then
  # fio itself died of a signal (CI saw SIGABRT once, not reproduced in 13 more kills): that is a crash of the
  # client, not a verify failure, which exits 1. It is shown in full and the step runs once more; a second
  # crash fails the tier like any other failure.
  echo "NOTE: fio died of signal $((rc - 128)) across the kill (not a verify failure); its log and the kernel's messages:"
  tail -25 "$W/fio-1.log"
  kernel_messages 20
  all_paths_live || fail "the host did not get all four paths back after the kill"
  echo "NOTE: running the step once more"
  rc=0
  fio_across_kill 2 || rc=$?
  cp "$W/fio-2.log" "$W/fio.log"
else
  cp "$W/fio-1.log" "$W/fio.log"
fi
[ $rc = 0 ] || { tail -25 "$W/fio.log"; fail "fio verify across the kill: exit status $rc (fio.log above)"; }
grep -q "err= 0" "$W/fio.log" || fail "fio reported errors"
pass "fio randwrite + crc32c verify across the kill and restart of A"

step "ext4 across a kill"
mkdir -p "$W/mnt"
mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4"
mount "$DEV" "$W/mnt" || fail "mount"
dd if=/dev/urandom of="$W/data" bs=1M count=16 status=none
cp "$W/data" "$W/mnt/a" &
CP=$!
fault kill A "$ADMIN_B" > /dev/null || fail "kill A"
wait $CP || fail "copy across the kill"
sync
cmp "$W/data" "$W/mnt/a" || fail "file differs after the kill"
umount "$W/mnt"
e2fsck -fn "$DEV" > "$W/fsck.log" 2>&1 || fail "e2fsck (see fsck.log)"
pass "ext4 written across a kill of A, e2fsck clean"

step "reservations across a takeover"
# retry CMD...: a path may be reconnecting after the kills above (the host retries every 10 s)
retry() {
  for i in $(seq 1 "$(paced 20)"); do
    if "$@" >> "$W/resv.log" 2>&1; then return 0; fi
    echo "(attempt $i failed; ana_state: $(cat /sys/block/nvme*c*n1/ana_state 2>/dev/null | tr '\n' ' '))" >> "$W/resv.log"
    sleep 2
  done
  return 1
}
fault restart A "$ADMIN_B" > /dev/null || fail "restart A"
sleep "$(paced 12)"   # A is back and the LUN failed back to it
retry nvme resv-register "$DEV" --nrkey=0xa --rrega=0 --cptpl=3 || fail "resv-register"
retry nvme resv-acquire "$DEV" --crkey=0xa --rtype=1 --racqa=0 || fail "resv-acquire"
nvme resv-report "$DEV" --eds -o json > "$W/report1.json" 2>>"$W/resv.log" || fail "resv-report"
jq -e '.rtype == 1 and .regctl == 1' "$W/report1.json" > /dev/null || fail "report after acquire: $(cat "$W/report1.json")"
fault kill A "$ADMIN_B" > /dev/null || fail "kill A"
sleep "$(paced 6)"
for _ in $(seq 1 "$(paced 10)"); do
  nvme resv-report "$DEV" --eds -o json > "$W/report2.json" 2>>"$W/resv.log" && break
  sleep 2
done
jq -e '.rtype == 1 and .regctl == 1' "$W/report2.json" > /dev/null || fail "report after the takeover: $(cat "$W/report2.json")"
retry nvme resv-release "$DEV" --crkey=0xa --rtype=1 --rrela=0 || fail "resv-release"
retry nvme resv-register "$DEV" --crkey=0xa --rrega=1 || fail "resv-register (unregister)"
pass "resv-register/acquire/report/release; the reservation survived the takeover by B"
step "ALL PASSED"
