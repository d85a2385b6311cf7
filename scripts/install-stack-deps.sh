#!/bin/sh
# Installs what the self-scaling stack and its cluster test run, from Debian's own apt
# repositories only: haproxy, serf (HashiCorp Serf), wrk (the keep-alive load generator),
# iproute2 (ip netns, veth, bridge) and util-linux (unshare).
# Idempotent; needs root (apt-get).
set -eu
. "$(dirname "$0")/lib/apt.sh"

# haproxy, serf, wrk, ip and unshare, by the packages that bring them.
apt_install_pairs install-stack-deps "haproxy:haproxy serf:serf wrk:wrk ip:iproute2 unshare:util-linux"

# Debian's postinst may start haproxy as a system service (where an init system is running):
# the stack starts its own, so a package-started one would only hold port 80.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  systemctl stop haproxy || true
  systemctl disable haproxy || true
fi
