# Sourced by the install-*-deps scripts: installs Debian packages by the binaries they bring.
# Only Debian's own apt repositories; idempotent (a binary already there skips its package).

# have BIN: on PATH, or where a non-login shell's PATH may not look (sbin, podman's helpers).
have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/lib/podman/$1" ] \
    || [ -x "/usr/libexec/podman/$1" ]
}

# apt_install_pairs WHO "BIN:PACKAGE …": installs the packages whose binary is missing, then
# checks every binary is there. Exits 1 (saying why) when not root or still missing after.
apt_install_pairs() {
  who=$1
  pairs=$2
  missing=""
  for pair in $pairs; do
    have "${pair%%:*}" && continue
    case " $missing " in
      *" ${pair#*:} "*) ;;
      *) missing="$missing ${pair#*:}" ;;
    esac
  done
  if [ -z "$missing" ]; then
    echo "$who: all present ($(for pair in $pairs; do printf '%s ' "${pair%%:*}"; done | sed 's/ $//'))"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing packages:$missing; run this script as root (it uses apt-get)" >&2
    exit 1
  fi
  echo "$who: installing from apt:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start daemons of their own (haproxy would hold port 80): the usual
  # policy-rc.d for the length of the install, unless the machine already has one.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1
  fi
  # --no-install-recommends: no init-system units, rsyslog or rootless helpers in a container.
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  [ -z "$own_policy" ] || rm -f "$policy"
  for pair in $pairs; do
    have "${pair%%:*}" || { echo "$who: ${pair%%:*} still missing after apt-get install" >&2; exit 1; }
  done
  echo "$who: done"
}
