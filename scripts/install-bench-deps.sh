#!/bin/sh
# Installs the peers that bench/run.ts compares warden with, from Debian's own apt
# repositories only: s6 (s6-svscan, s6-envdir, s6-svstat …), execline (execlineb: s6-overlay's
# with-contenv in bench/helpers.ts), runit (runsvdir, runsv), supervisor (supervisord), tini.
# Idempotent; needs root (apt-get).
set -eu
. "$(dirname "$0")/lib/apt.sh"
apt_install_pairs install-bench-deps "s6-svscan:s6 execlineb:execline runsvdir:runit runsv:runit supervisord:supervisor tini:tini"
