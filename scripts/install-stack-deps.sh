#!/bin/sh
# Installs what the self-scaling stack and its cluster test run, from Debian's own apt
# repositories only: haproxy, serf (HashiCorp Serf), wrk (the keep-alive load generator),
# iproute2 (ip netns, veth, bridge) and util-linux (unshare).
# Idempotent: packages whose binary is already on PATH are skipped. Needs root (apt-get).
set -eu

# binary:package pairs; the binary is how we tell the package is usable.
PAIRS="haproxy:haproxy serf:serf wrk:wrk ip:iproute2 unshare:util-linux"

missing=""
for pair in $PAIRS; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  # haproxy lives in /usr/sbin, which a non-login shell may not have on PATH.
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    case " $missing " in
      *" $pkg "*) ;;
      *) missing="$missing $pkg" ;;
    esac
  fi
done

if [ -z "$missing" ]; then
  echo "install-stack-deps: all present (haproxy, serf, wrk, ip, unshare)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-stack-deps: missing packages:$missing; run this script as root (it uses apt-get)" >&2
  exit 1
fi

echo "install-stack-deps: installing from apt:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages must not start their own daemons (haproxy would hold port 80): the usual
# policy-rc.d for the length of the install, unless the machine already has one.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1
fi
# --no-install-recommends: no rsyslog or systemd units pulled in with haproxy.
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
[ -z "$own_policy" ] || rm -f "$policy"

# Debian's postinst may start haproxy as a system service (where an init system is running):
# the stack starts its own, so a package-started one would only hold port 80.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  systemctl stop haproxy || true
  systemctl disable haproxy || true
fi

for pair in $PAIRS; do
  bin=${pair%%:*}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    echo "install-stack-deps: $bin still missing after apt-get install" >&2
    exit 1
  fi
done
echo "install-stack-deps: done"
