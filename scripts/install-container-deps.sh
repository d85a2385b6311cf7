#!/bin/sh
# Installs what the stack's container images and scripts/stack.sh need, from Debian's own apt
# repositories: podman (with runc, netavark + aardvark-dns for name resolution on a created
# network, iptables for netavark's NAT and port publishing), podman-compose (for compose.yaml)
# and debootstrap (scripts/build-images.sh makes the base image locally: no registry image is
# pulled). Then makes sure /etc/containers/containers.conf has the two settings podman needs on
# hosts like the ones this project is built on:
#   [engine]     runtime = "runc"       crun fails on hosts with hybrid cgroups (v1 + v2)
#   [containers] default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
#                podman's default rlimits are above the hard limits such hosts give root, and
#                every `podman run` then fails with "error setting rlimit type 7".
# Any other content of containers.conf is kept. Idempotent; needs root.
set -eu

say() { printf 'install-container-deps: %s\n' "$*"; }

# binary:package pairs; a binary found means its package is usable.
PAIRS="podman:podman runc:runc debootstrap:debootstrap podman-compose:podman-compose \
netavark:netavark aardvark-dns:aardvark-dns iptables:iptables"

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/lib/podman/$1" ] \
    || [ -x "/usr/libexec/podman/$1" ]
}

missing=""
for pair in $PAIRS; do
  have "${pair%%:*}" || missing="$missing ${pair#*:}"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing packages:$missing; run this script as root (it uses apt-get)" >&2
    exit 1
  fi
  say "installing from apt:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: no buildah, fuse-overlayfs or rootless helpers (we run as root).
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  for pair in $PAIRS; do
    have "${pair%%:*}" || { say "${pair%%:*} still missing after apt-get install" >&2; exit 1; }
  done
else
  say "packages present (podman, runc, debootstrap, podman-compose, netavark, aardvark-dns, iptables)"
fi

# --- /etc/containers/containers.conf: set two keys, keep everything else -------------------
conf=/etc/containers/containers.conf
if [ "$(id -u)" -ne 0 ]; then
  say "not root: leaving $conf as it is" >&2
  exit 0
fi
mkdir -p /etc/containers
[ -e "$conf" ] || : > "$conf"

# set_key SECTION KEY VALUE: replace KEY's line in [SECTION] (commented-out lines are left
# alone), or add it at the end of the section, or add the section at the end of the file.
set_key() {
  tmp=$(mktemp)
  awk -v section="$1" -v key="$2" -v value="$3" '
    function emit() { print key " = " value; done = 1 }
    /^[[:space:]]*\[/ {
      if (insec && !done) emit()
      name = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", name)
      insec = (name == section)
      print; next
    }
    insec && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" { if (!done) emit(); next }
    { print }
    END {
      if (insec && !done) emit()
      else if (!done) { if (NR > 0) print ""; print "[" section "]"; emit() }
    }' "$conf" > "$tmp"
  if cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
  else
    cat "$tmp" > "$conf" && rm -f "$tmp"
    changed=1
  fi
}

changed=""
set_key engine runtime '"runc"'
set_key containers default_ulimits '["nofile=20000:20000", "nproc=32768:32768"]'
if [ -n "$changed" ]; then
  say "updated $conf (engine.runtime, containers.default_ulimits)"
else
  say "$conf already set"
fi

# Quick check: podman can read its config and reach its storage.
if ! podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1; then
  say "podman info fails:" >&2
  podman info >&2 || true
  exit 1
fi
say "done (podman $(podman version --format '{{.Client.Version}}' 2>/dev/null), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'))"
