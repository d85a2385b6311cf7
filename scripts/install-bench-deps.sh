#!/bin/sh
# Installs the peers that bench/run.ts compares warden with, from Debian's own apt
# repositories only: s6 (s6-svscan), runit (runsvdir, runsv), supervisor (supervisord), tini.
# Idempotent: packages whose binary is already on PATH are skipped; nothing is downloaded
# from anywhere else. Needs root (apt-get).
set -eu

# binary:package pairs; the binary is how we tell the package is usable.
PAIRS="s6-svscan:s6 runsvdir:runit runsv:runit supervisord:supervisor tini:tini"

missing=""
for pair in $PAIRS; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1; then
    case " $missing " in
      *" $pkg "*) ;;
      *) missing="$missing $pkg" ;;
    esac
  fi
done

if [ -z "$missing" ]; then
  echo "install-bench-deps: all peers present (s6-svscan, runsvdir, runsv, supervisord, tini)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages:$missing; run this script as root (it uses apt-get)" >&2
  exit 1
fi

echo "install-bench-deps: installing from apt:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: runit-init / systemd bits are not wanted in a container.
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing

for pair in $PAIRS; do
  bin=${pair%%:*}
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "install-bench-deps: $bin still missing after apt-get install" >&2
    exit 1
  fi
done
echo "install-bench-deps: done"
