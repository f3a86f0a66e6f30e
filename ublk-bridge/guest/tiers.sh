#!/usr/bin/env bash
# Every guest tier in one boot of the test guest: the ublk tier, the kernel-bridge conformance suite through
# ublk, the NVMe/TCP tier (Linux's host against the emulator), then the nvmet tier (jmpio's NVMe/TCP transport
# against Linux's nvmet). All run even if one fails; the exit status is non-zero if any did.
#
# Usage: tiers.sh [--rounds N] [--budget SECONDS]
# --rounds N (default 2) runs them that many times in a row, to show they pass every time and not once by luck.
# From round 2 on, the NVMe/TCP connections to and from Linux (the nvme and nvmet tiers) carry header and data
# digests (JMPIO_TIER_DIGESTS=1): both of our ends' digest code then meets the kernel's. Those two tiers go first
# in those rounds, so that a budget that cannot hold a whole round leaves out a repeat, not the digests.
# --budget S: the seconds the tiers may take in all (bin/test derives it from what is left of CI's 45 minutes).
# Round 1 always runs in full. In a later round each tier runs again only if the time it took last, taken again,
# still ends inside the budget: under TCG one round took 14 to 19 minutes on our 2-core host (one vCPU,
# class-data archive; 26 before them) and takes longer on a slower or busy one, and a tier cut off by the
# guest's timeout would prove nothing. A tier left out is said, with the times that decided it.
cd "$(dirname "$0")"
rounds=2
budget=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    *) echo "tiers.sh: unknown option $1 (usage: tiers.sh [--rounds N] [--budget SECONDS])" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "tiers.sh: --rounds wants a whole number of at least 1, not '$rounds'" >&2; exit 2 ;; esac
case "$budget" in ''|*[!0-9]*) echo "tiers.sh: --budget wants whole seconds (0: no limit), not '$budget'" >&2; exit 2 ;; esac
TIERS=(ublk-tier conformance-tier nvme-tier nvmet-tier)
declare -A took   # seconds each tier took the last time it ran
rc=0
start=$(date +%s)
summary=()
for round in $(seq 1 "$rounds"); do
  echo "=== guest tiers, round $round of $rounds"
  if [ "$round" -gt 1 ]; then
    export JMPIO_TIER_DIGESTS=1
    TIERS=(nvme-tier nvmet-tier ublk-tier conformance-tier)
  fi
  t0=$(date +%s)
  ran=()
  left=()
  for tier in "${TIERS[@]}"; do
    spent=$(( $(date +%s) - start ))
    if [ "$round" -gt 1 ] && [ "$budget" -gt 0 ] && [ $(( spent + took[$tier] )) -gt "$budget" ]; then
      echo "=== guest tiers, round $round: $tier NOT run again: it took ${took[$tier]} s last time and $spent s" \
        "of the $budget s budget are spent (this guest runs slowly; see the pace above)"
      left+=("$tier")
      continue
    fi
    t=$(date +%s)
    "./$tier.sh" || rc=1
    took[$tier]=$(( $(date +%s) - t ))
    ran+=("$tier")
  done
  echo "=== guest tiers, round $round took $(( $(date +%s) - t0 )) s"
  if [ ${#left[@]} = 0 ]; then
    summary+=("round $round: all ${#TIERS[@]} tiers")
  else
    summary+=("round $round: ${#ran[@]} of ${#TIERS[@]} tiers (${left[*]} left out for time)")
  fi
  [ ${#ran[@]} -gt 0 ] || break
done
echo "guest tiers: $([ $rc = 0 ] && echo "all passed" || echo "FAILED"); $(IFS=';'; echo "${summary[*]}" | sed 's/;/; /g')"
exit $rc
