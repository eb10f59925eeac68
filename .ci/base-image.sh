#!/usr/bin/env bash
# Builds the offline Python base image the Docker tests use (no registry is reachable on CI):
# debootstrap a minimal Debian with python3 + numpy (+ pip/venv for images that install
# packages) into a folder, then `docker import` it. Cached by tag.
set -euo pipefail
tag="${1:-benchaction-test/python-base:bookworm-1}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag: cached"
  exit 0
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
# Use the mirror apt is already configured with (deb822 or one-line sources).
mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | head -n1 | awk '{print $2}')
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^deb ' /etc/apt/sources.list | head -n1 | awk '{print $2}')
fi
[ -n "$mirror" ] || { echo "no apt mirror found in /etc/apt/sources.list*" >&2; exit 1; }
root=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$root" "$log"' EXIT
echo "base image $tag: debootstrap $suite (minbase + python3, numpy, pip, venv)"
debootstrap --variant=minbase --include=python3,python3-numpy,python3-pip,python3-venv,ca-certificates \
  "$suite" "$root" "$mirror" >"$log" 2>&1 </dev/null || { tail -n 30 "$log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "base image $tag: built"
