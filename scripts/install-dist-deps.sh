#!/bin/sh
# Installs what `npm run dist` and the roots tests (test/roots) need, from Debian's own apt
# repositories only: patchelf (the release's executable gets its own loader and rpath), binutils
# (strip), xz-utils, musl-tools (musl and musl-gcc: the musl root and its service),
# busybox-static (the busybox root; Debian's plain busybox needs glibc), file and util-linux
# (nsenter). Idempotent; needs root (apt-get).
set -eu
. "$(dirname "$0")/lib/apt.sh"

apt_install_pairs install-dist-deps "patchelf:patchelf strip:binutils xz:xz-utils musl-gcc:musl-tools file:file nsenter:util-linux"

# busybox by itself says nothing of how it was linked: a static one is what the roots need.
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
  echo "install-dist-deps: busybox-static present"
else
  [ "$(id -u)" -eq 0 ] || { echo "install-dist-deps: busybox-static is missing; run this script as root" >&2; exit 1; }
  echo "install-dist-deps: installing from apt: busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
