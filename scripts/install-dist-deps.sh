#!/bin/sh
# Installs what `npm run dist` and the roots tests (test/roots) need, from Debian's own apt
# repositories only: patchelf (the release's executable gets its own loader and rpath), binutils
# (strip), xz-utils, musl-tools (musl and musl-gcc: the musl root and its service),
# busybox-static (the busybox root; Debian's plain busybox needs glibc), file and util-linux
# (nsenter). Idempotent; needs root (apt-get).
#
# --arch arm64: also what the arm64 release (`node scripts/dist.mjs --arch arm64`) and its
# test (test/roots/arm64.test.ts) need: arm64 as a second architecture of apt (dist.mjs
# downloads libc6, libstdc++6 and libgcc-s1 for it), its strip (binutils-aarch64-linux-gnu),
# qemu-user-static registered with the
# kernel's binfmt_misc (arm64 programs then run as if native, in chroots too), and Debian's
# busybox-static for arm64, unpacked under node_modules/.cache (it cannot be installed beside
# the amd64 one).
set -eu
. "$(dirname "$0")/lib/apt.sh"
arm64=""
case "${1:-}" in
  --arch) [ "${2:-}" = arm64 ] || { echo "install-dist-deps: --arch takes arm64" >&2; exit 2; }; arm64=1 ;;
  "") ;;
  *) echo "usage: install-dist-deps.sh [--arch arm64]" >&2; exit 2 ;;
esac

apt_install_pairs install-dist-deps "patchelf:patchelf strip:binutils xz:xz-utils musl-gcc:musl-tools file:file nsenter:util-linux"

# busybox by itself says nothing of how it was linked: a static one is what the roots need.
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
  echo "install-dist-deps: busybox-static present"
else
  [ "$(id -u)" -eq 0 ] || { echo "install-dist-deps: busybox-static is missing; run this script as root" >&2; exit 1; }
  echo "install-dist-deps: installing from apt: busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi

[ -n "$arm64" ] || exit 0
REPO=$(cd "$(dirname "$0")/.." && pwd)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { echo "install-dist-deps: arm64 is not an apt architecture here; run this script as root" >&2; exit 1; }
  echo "install-dist-deps: dpkg --add-architecture arm64; apt-get update"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
apt_install_pairs install-dist-deps "qemu-aarch64-static:qemu-user-static aarch64-linux-gnu-strip:binutils-aarch64-linux-gnu"
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" \
    || { echo "install-dist-deps: cannot mount binfmt_misc at $binfmt: arm64 programs cannot run here" >&2; exit 1; }
fi
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  # Debian's own entry, as systemd-binfmt would register it: its F flag has the kernel open the
  # emulator now, so it also runs arm64 programs inside a chroot that has no qemu.
  conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [ -f "$conf" ] || { echo "install-dist-deps: $conf is missing (qemu-user-static)" >&2; exit 1; }
  grep -q ':[A-Z]*F[A-Z]*$' "$conf" || { echo "install-dist-deps: $conf has no F flag: chroots would need qemu inside" >&2; exit 1; }
  cat "$conf" > "$binfmt/register"
  echo "install-dist-deps: registered qemu-aarch64 with binfmt_misc"
fi
busybox=$REPO/node_modules/.cache/warden-dist/busybox-static-arm64
if [ ! -x "$busybox/bin/busybox" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq busybox-static:arm64)
  mkdir -p "$busybox"
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$busybox"
  rm -rf "$tmp"
  echo "install-dist-deps: busybox-static:arm64 in ${busybox#"$REPO"/}"
fi
