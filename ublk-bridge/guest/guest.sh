#!/usr/bin/env bash
# Runs a command as root in a qemu guest whose kernel has ublk: Debian's bookworm-backports kernel (6.12),
# booted under TCG (no KVM here) with a busybox initramfs. The host's root is shared read-only over 9p
# under a tmpfs overlay, so the guest sees the host's JDK, build and tools and writes nothing back; the
# directory given with --share (default: a fresh temporary one) is shared read-write for results.
#
# Usage: ublk-bridge/guest/guest.sh [--timeout SECONDS] [--share DIR] [--mem MB] [--cpus N] -- COMMAND [ARGS...]
# One vCPU by default (JMPIO_GUEST_CPUS or --cpus change it): with thread=single (multi-threaded TCG crashed the
# JVM, see the environment notes) every vCPU runs on the same host thread, so a second one adds no computing,
# only switching between them; on this host one vCPU ran the pace loop in 9.7 s instead of 13.5 s and the ublk
# tier in 417 s instead of 621 s.
# Exit status: the command's, or 90 when the guest did not boot or the command did not finish.
# Cache: $JMPIO_GUEST_CACHE (default /var/cache/jmpio-guest): kernel, modules, initramfs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=900
SHARE=""
MEM=3072
CPUS=${JMPIO_GUEST_CPUS:-1}
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) TIMEOUT=$2; shift 2 ;;
    --share) SHARE=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "guest.sh: unknown option $1 (usage: guest.sh [--timeout S] [--share DIR] [--mem MB] [--cpus N] -- CMD...)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "guest.sh: no command given" >&2; exit 2; }
whole() { # whole NAME VALUE MIN MAX: VALUE must be a whole number within MIN..MAX
  if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "${#2}" -gt 9 ] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    echo "guest.sh: $1 must be a whole number within $3..$4, got '$2'" >&2; exit 2
  fi
}
whole "--timeout" "$TIMEOUT" 1 86400
whole "--mem (MB)" "$MEM" 512 65536
whole "--cpus (or JMPIO_GUEST_CPUS)" "$CPUS" 1 16
CACHE=${JMPIO_GUEST_CACHE:-/var/cache/jmpio-guest}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && file /bin/busybox 2>/dev/null | grep -q static || dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  echo "guest.sh: installing ${need[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

# --- the kernel: downloaded once from bookworm-backports, unpacked, never installed ----------------------
$SUDO mkdir -p "$CACHE"
if [ ! -s "$CACHE/vmlinuz" ]; then
  echo "guest.sh: fetching the bookworm-backports kernel into $CACHE" >&2
  APT="$CACHE/apt"
  $SUDO mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/pkg"
  MIRROR=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
             grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}') | grep -v security | head -1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm-backports main" \
    | $SUDO tee "$APT/sources.list" >/dev/null
  OPTS=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" -o APT::Get::List-Cleanup=0)
  $SUDO apt-get "${OPTS[@]}" update -q >&2
  # The generic flavour: the cloud one lacks 9p and the rt one is slower under emulation.
  PKG=$(apt-cache "${OPTS[@]}" search --names-only '^linux-image-6\.12\.' | awk '{print $1}' \
    | grep -E '^linux-image-6\.12\.[0-9.]+\+deb12-amd64$' | sort -V | tail -1)
  [ -n "$PKG" ] || { echo "guest.sh: no linux-image-6.12 package in bookworm-backports" >&2; exit 90; }
  (cd "$CACHE/pkg" && $SUDO apt-get "${OPTS[@]}" download "$PKG" >&2)
  $SUDO rm -rf "$CACHE/root" && $SUDO mkdir -p "$CACHE/root"
  $SUDO dpkg -x "$CACHE"/pkg/"$PKG"_*.deb "$CACHE/root"
  KVER=$(ls "$CACHE/root/lib/modules" | head -1)
  $SUDO cp "$CACHE/root/boot/vmlinuz-$KVER" "$CACHE/vmlinuz.tmp"
  echo "$KVER" | $SUDO tee "$CACHE/kver" >/dev/null
  $SUDO mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
fi
KVER=$(cat "$CACHE/kver")

# --- the initramfs: static busybox, the modules we need, and an /init that mounts the host and runs -------
INIT_SUM=$( (cat "$HERE/guest-init.sh" "$HERE/guest.sh"; echo "$KVER") | sha256sum | cut -c1-16)
if [ ! -s "$CACHE/initrd-$INIT_SUM.cpio.gz" ]; then
  WORK=$(mktemp -d)
  mkdir -p "$WORK"/{bin,dev,proc,sys,mnt,host,share,modules,newroot,upper}
  cp /bin/busybox "$WORK/bin/busybox"
  for m in overlay netfs 9pnet 9p 9pnet_virtio ublk_drv loop jbd2 crc16 mbcache ext4 crc32c_generic \
      configfs nvme_keyring nvme_auth nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp; do
    # module files use hyphens where module names use underscores (nvme_tcp is nvme-tcp.ko.xz)
    f=$(find "$CACHE/root/lib/modules/$KVER" \( -name "$m.ko*" -o -name "${m//_/-}.ko*" \) | head -1)
    [ -n "$f" ] || continue   # built in
    case "$f" in
      *.xz) xz -dc "$f" > "$WORK/modules/$m.ko" ;;
      *.zst) zstd -dcq "$f" > "$WORK/modules/$m.ko" ;;
      *) cp "$f" "$WORK/modules/$m.ko" ;;
    esac
  done
  cp "$HERE/guest-init.sh" "$WORK/init"
  chmod +x "$WORK/init"
  (cd "$WORK" && find . | cpio -o -H newc --quiet | gzip -1) | $SUDO tee "$CACHE/initrd-$INIT_SUM.cpio.gz.tmp" >/dev/null
  $SUDO mv "$CACHE/initrd-$INIT_SUM.cpio.gz.tmp" "$CACHE/initrd-$INIT_SUM.cpio.gz"
  rm -rf "$WORK"
fi

# --- run -------------------------------------------------------------------------------------------------
CLEAN_SHARE=""
if [ -z "$SHARE" ]; then SHARE=$(mktemp -d); CLEAN_SHARE=1; fi
mkdir -p "$SHARE"
rm -f "$SHARE/.exit" "$SHARE/.cmd"
{
  printf 'cd %q\n' "$PWD"
  printf 'export PATH=%q\n' "$PATH"
  printf 'export JMPIO_GUEST=1 JMPIO_GUEST_SHARE=/share\n'
  printf '%q ' "$@"; printf '\n'
} > "$SHARE/.cmd"
LOG="$SHARE/console.log"
set +e
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max -m "$MEM" -smp "$CPUS" \
  -nodefaults -display none -no-reboot -serial stdio \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd-$INIT_SUM.cpio.gz" \
  -append "console=ttyS0 quiet loglevel=4 panic=-1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$SHARE",mount_tag=share,security_model=none,multidevs=remap \
  | tee "$LOG"
QEMU=${PIPESTATUS[0]}
set -e
if [ ! -s "$SHARE/.exit" ]; then
  echo "guest.sh: the guest did not finish the command (qemu exit $QEMU; console in $LOG)" >&2
  exit 90
fi
RC=$(cat "$SHARE/.exit")
[ -n "$CLEAN_SHARE" ] && rm -rf "$SHARE"
exit "$RC"
