#!/usr/bin/env bash
# Build the flarecast image on a machine with no Docker engine and no registry (python:3.11-slim cannot be pulled).
#
#   scripts/build_image.sh [TAG [BUD-OPTION...]]    # default flarecast:local; needs root, debootstrap and buildah
#   scripts/build_image.sh flarecast:local --no-cache   # options after the tag go to buildah bud
#
# 1. The base: Debian bookworm (minbase) with Python 3.11 and a virtual environment at /opt/venv first on PATH, so
#    `pip install` works as in python:3.11-slim (no PEP 668 block). debootstrap's root file system is cached as a
#    tar under build/image/ and imported into buildah's local storage as localhost/flarecast-base:bookworm; both
#    are reused, so only the first build pays for debootstrap.
# 2. The image: `buildah bud --isolation chroot --layers` of the Dockerfile on that base. The local wheel folder
#    (WHEELS, else $PIP_FIND_LINKS, else pip's configured find-links) is mounted read-only when it holds torch's
#    CPU wheel, so torch is installed from disk and never from the (unreachable, CUDA-sized) indexes; pip's CA
#    bundle (PIP_CERT, else pip's configured cert: a TLS-inspecting proxy's) is mounted the same way.
#
# Environment: WHEELS (a wheel folder, or "" for none), PIP_CERT, DEBIAN_MIRROR, BUILD_DIR (default build/image).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-flarecast:local}
shift $(( $# > 0 ))
BASE_TAG=localhost/flarecast-base:bookworm
CACHE=${BUILD_DIR:-build/image}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS_TAR=$CACHE/bookworm-minbase-python3.tar
PACKAGES=python3,python3-venv,ca-certificates

[ "$(id -u)" = 0 ] || { echo "build_image: run as root (debootstrap and buildah --isolation chroot need it)" >&2; exit 2; }
for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { echo "build_image: $tool is not installed (apt-get install -y $tool)" >&2; exit 2; }
done

rootfs_tar() {  # debootstrap into a temporary folder, drop the package caches, then tar and rename: whole or absent
  local tmp="$CACHE/rootfs.tmp"
  rm -rf "$tmp" && mkdir -p "$CACHE"
  echo "build_image: debootstrap bookworm ($PACKAGES) from $MIRROR" >&2
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$tmp" "$MIRROR" >"$CACHE/debootstrap.log"
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
  tar -C "$tmp" --numeric-owner -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$tmp"
}

base_image() {  # the tar as an image, with /opt/venv made inside it and put first on PATH
  [ -f "$ROOTFS_TAR" ] || rootfs_tar
  local ctr
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$ROOTFS_TAR" / >/dev/null
  buildah run --isolation chroot "$ctr" -- python3 -m venv /opt/venv
  buildah config --env VIRTUAL_ENV=/opt/venv --env LANG=C.UTF-8 \
    --env PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd python3 "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE_TAG" >/dev/null
}

wheel_folder() {  # the local wheel folder to mount, if it holds the torch CPU wheel the Dockerfile pins
  local dir=${WHEELS-${PIP_FIND_LINKS:-$(pip config get global.find-links 2>/dev/null || true)}}
  dir=${dir%% *}
  if [ -n "$dir" ] && compgen -G "$dir/torch-2.13.0+cpu-*.whl" >/dev/null; then echo "$dir"; fi
}

# One build at a time: .ci/run starts one in the background while the suite runs; the test's own build then
# waits here and finds every layer cached.
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9

buildah inspect --type image "$BASE_TAG" >/dev/null 2>&1 || base_image

args=(--isolation chroot --layers --force-rm --build-arg "BASE=$BASE_TAG" -t "$TAG")
wheels=$(wheel_folder)
if [ -n "$wheels" ]; then
  echo "build_image: torch from the local wheel folder $wheels" >&2
  # Only PyPI besides the folder: the default TORCH_INDEX is not needed (the folder's wheel is the CPU build).
  args+=(--volume "$(realpath "$wheels"):/wheels:ro" --build-arg PIP_FIND_LINKS=/wheels --build-arg TORCH_INDEX=)
fi
cert=${PIP_CERT:-$(pip config get global.cert 2>/dev/null || true)}
if [ -f "$cert" ]; then
  args+=(--volume "$(realpath "$cert"):/etc/pip-ca.crt:ro" --build-arg PIP_CERT=/etc/pip-ca.crt)
fi
buildah bud "${args[@]}" "$@" .
echo "build_image: built $TAG ($(buildah images --format '{{.Size}}' "$TAG"))" >&2
