#!/usr/bin/env bash
# Builds the container images the tests use, without any image registry:
#   jmpio/base:bookworm-jre17  debootstrap --variant=minbase with openjdk-17-jre-headless, docker import
#                              (cached by tag: built only when missing; ~40 s)
#   jmpio/emu:dev              storage-emu/docker/Dockerfile on top of it with dist/target/jmpio.jar
# Usage: storage-emu/docker/build-images.sh [--rebuild-base | --base-only]  (the emulator image needs the jar:
#        mvn -DskipTests package; the container tests build their own copy of it from the jar)
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${JMPIO_BASE_IMAGE:-jmpio/base:bookworm-jre17}
EMU=${JMPIO_EMU_IMAGE:-jmpio/emu:dev}
docker info >/dev/null 2>&1 || { echo "build-images.sh: no Docker daemon reachable (start dockerd)" >&2; exit 1; }
if [ "${1:-}" = "--rebuild-base" ] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "build-images.sh: debootstrap is not installed" >&2; exit 1; }
  MIRROR=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
             grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}') | grep -v security | head -1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  ROOT=$(mktemp -d /tmp/jmpio-base.XXXXXX)
  trap 'rm -rf "$ROOT"' EXIT
  echo "build-images.sh: debootstrap bookworm (minbase + openjdk-17-jre-headless) from $MIRROR" >&2
  debootstrap --variant=minbase --include=openjdk-17-jre-headless,procps bookworm "$ROOT" "$MIRROR" > "$ROOT.log" 2>&1 \
    || { tail -20 "$ROOT.log" >&2; exit 1; }
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
  tar -C "$ROOT" -c . | docker import - "$BASE" >/dev/null
  rm -f "$ROOT.log"
  echo "build-images.sh: imported $BASE" >&2
fi
if [ "${1:-}" = "--base-only" ]; then
  echo "build-images.sh: $BASE ready" >&2
  exit 0
fi
[ -f dist/target/jmpio.jar ] || { echo "build-images.sh: build first (mvn -q -DskipTests package)" >&2; exit 1; }
CTX=$(mktemp -d /tmp/jmpio-emu-image.XXXXXX)
cp dist/target/jmpio.jar storage-emu/docker/Dockerfile "$CTX/"
docker build -q --build-arg BASE="$BASE" -t "$EMU" "$CTX" >/dev/null
rm -rf "$CTX"
echo "build-images.sh: $EMU ready (base $BASE)" >&2
