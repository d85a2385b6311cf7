#!/bin/sh
# Installs what the stack's container images and scripts/stack.sh need, from Debian's own apt
# repositories: podman (with runc, netavark + aardvark-dns for name resolution on a created
# network, iptables for netavark's NAT and port publishing), podman-compose (for compose.yaml),
# catatonit (the init of a pod's infra container: `podman kube play` of deploy/kubernetes/
# builds its pause image from it) and debootstrap (scripts/build-images.sh makes the base image
# locally: no registry image is pulled). Then makes sure /etc/containers/containers.conf has the two settings podman needs on
# hosts like the ones this project is built on:
#   [engine]     runtime = "runc"       crun fails on hosts with hybrid cgroups (v1 + v2)
#   [containers] default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
#                podman's default rlimits are above the hard limits such hosts give root, and
#                every `podman run` then fails with "error setting rlimit type 7".
# Any other content of containers.conf is kept. Idempotent; needs root.
set -eu
. "$(dirname "$0")/lib/apt.sh"

say() { printf 'install-container-deps: %s\n' "$*"; }

apt_install_pairs install-container-deps "podman:podman runc:runc debootstrap:debootstrap \
podman-compose:podman-compose netavark:netavark aardvark-dns:aardvark-dns iptables:iptables \
catatonit:catatonit"

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
