#!/usr/bin/env bash
# Runs the Dockerfiles of the README's "Install" and of docs/s6-overlay.md's migration
# (examples/release/*) with podman:
#   alpine       alpine:3.20 + the release tarball, one services.d service
#   debian       debian:bookworm-slim + the release tarball, one services.d service
#   haproxy      haproxy:2.6 (the official image's layout) + the release tarball, HAProxy as a service
#   s6-overlay   an s6-overlay tree (cont-init.d, an s6-rc longrun, CMD) on debian:bookworm-slim
#                + the release tarball: docs/s6-overlay.md's "no Node in the image"
#   s6-overlay-npm  the same tree on node:24-bookworm-slim + `npm install -g` of `npm pack`'s
#                tarball, Debian's execline and s6, the shims linked: the migration's Node way
# For each: podman build, podman run, the service up in `warden status` inside, `warden check`
# inside finds nothing, a SIGKILLed service restarted, `podman stop` (SIGTERM) exits 0; then
# the image's size. The alpine image is also searched for a glibc or a Node outside /opt/warden.
#
# No registry image is pulled (--pull=never). A base that is missing is made here from Debian's
# packages, as a stand-in under the official name (say so when you quote a result):
#   alpine:3.20              busybox-static + Debian's musl (the only C library), podman import
#   haproxy:2.6              debian:bookworm-slim + Debian's haproxy (2.6), laid out as the
#                            official image (config in /usr/local/etc/haproxy, USER haproxy,
#                            STOPSIGNAL SIGUSR1)
#   debian:bookworm-slim,    scripts/build-images.sh --base-only (debootstrap; Node's binary and
#   node:24-bookworm-slim    npm from the npm registry)
# Needs root, podman, the release (`npm run dist`, made here when missing), npm (for `npm pack`)
# and scripts/install-dist-deps.sh's packages. Images and containers are named warden-try-KIND.
#
# usage: scripts/try-release.sh [KIND…]   (default: all five)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=$REPO/release/warden-linux-x64.tar.xz
BUILD_TMP=${BUILD_TMP:-/var/tmp}
KINDS=${*:-alpine debian haproxy s6-overlay s6-overlay-npm}
cd "$REPO"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'try-release: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (rootful podman)"
sh scripts/install-dist-deps.sh >/dev/null
[ -f "$RELEASE" ] || { step "npm run dist"; npm run dist; }

if ! podman image exists docker.io/library/debian:bookworm-slim || ! podman image exists docker.io/library/node:24-bookworm-slim; then
  step "stand-ins debian:bookworm-slim, node:24-bookworm-slim"
  bash scripts/build-images.sh --base-only
fi

if ! podman image exists docker.io/library/alpine:3.20; then
  step "stand-in alpine:3.20: busybox-static + musl from Debian's packages"
  root=$(mktemp -d "$BUILD_TMP/warden-alpine.XXXXXX")
  mkdir -p "$root"/{bin,etc,lib,proc,dev,run,tmp,root}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  cp /usr/lib/x86_64-linux-musl/libc.so "$root/lib/ld-musl-x86_64.so.1"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  tar --numeric-owner -C "$root" -c . | podman import --change 'CMD ["/bin/sh"]' \
    --message "stand-in for alpine:3.20: Debian's busybox-static and musl" - docker.io/library/alpine:3.20 >/dev/null
  rm -rf "$root"
fi

if ! podman image exists docker.io/library/haproxy:2.6; then
  step "stand-in haproxy:2.6: debian:bookworm-slim + Debian's haproxy, as the official image lays it out"
  ctx=$(mktemp -d "$BUILD_TMP/warden-haproxy.XXXXXX")
  cat > "$ctx/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends haproxy && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/local/etc/haproxy && ln -s /usr/sbin/haproxy /usr/local/sbin/haproxy
USER haproxy
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
EOF
  podman build --pull=never -t docker.io/library/haproxy:2.6 "$ctx" | sed 's/^/    /'
  rm -rf "$ctx"
fi

# `warden status --json NAME`'s pid and state of NAME, as "PID STATE".
pid_state() {
  local json
  json=$(podman exec "$1" warden status --json "$2" 2>/dev/null) || return 0
  printf '%s %s\n' "$(echo "$json" | sed -n 's/^ *"pid": \([0-9]*\).*/\1/p' | head -n1)" \
    "$(echo "$json" | sed -n 's/^ *"state": "\([a-z-]*\)".*/\1/p' | head -n1)"
}

failed=0
summary=""
for kind in $KINDS; do
  case $kind in
    alpine|debian) dir=$kind file=Dockerfile service=hello ;;
    haproxy) dir=haproxy file=Dockerfile service=haproxy ;;
    s6-overlay) dir=s6-overlay file=Dockerfile service=svc-hello ;;
    s6-overlay-npm) dir=s6-overlay file=Dockerfile.npm service=svc-hello ;;
    *) die "unknown example $kind (alpine debian haproxy s6-overlay s6-overlay-npm)" ;;
  esac
  image=localhost/warden-try-$kind
  name=warden-try-$kind
  ctx=examples/release/$dir
  step "examples/release/$dir/$file: podman build -t $image"
  if [ "$file" = Dockerfile.npm ]; then
    # README's "Where Node is already": npm pack in the clone, its tarball in the build context.
    tgz=$(npm pack --silent --pack-destination "$ctx" | tail -n1)
    echo "    npm pack: $tgz ($(du -k "$ctx/$tgz" | cut -f1) KB, $(tar -tzf "$ctx/$tgz" | wc -l) files)"
  else
    cp "$RELEASE" "$ctx/"
  fi
  built=0
  podman build --pull=never -f "$ctx/$file" -t "$image" "$ctx" 2>&1 | sed 's/^/    /' && built=1
  rm -f "$ctx/warden-linux-x64.tar.xz" "$ctx"/warden-*.tgz
  [ "$built" = 1 ] && podman image exists "$image" || { echo "    $kind: build FAILED"; failed=1; continue; }
  size=$(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')

  if [ "$kind" = alpine ]; then
    foreign=$(podman run --rm --entrypoint /bin/find "$image" / -xdev \( -name 'ld-linux*' -o -name 'libc.so.6' -o -name node \) ! -path '/opt/warden/*' 2>&1 || true)
    echo "    glibc or Node outside /opt/warden: ${foreign:-none}"
    [ -z "$foreign" ] || failed=1
  fi

  podman rm -f "$name" >/dev/null 2>&1 || true
  podman run -d --name "$name" -e GREETING=hi "$image" >/dev/null
  ok=""
  for _ in $(seq 1 200); do
    [ "$(pid_state "$name" "$service" | cut -d' ' -f2)" = up ] && { ok=1; break; }
    sleep 0.3
  done
  podman exec "$name" warden status | sed 's/^/    /' || true
  [ -n "$ok" ] || { echo "    $kind: $service never came up"; podman logs "$name" 2>&1 | tail -20; failed=1; }
  check=$(podman exec "$name" warden check 2>&1) && check_code=0 || check_code=$?
  echo "    warden check inside: exit $check_code: $(echo "$check" | tail -n1)"
  [ "$check_code" = 0 ] || { echo "$check" | sed 's/^/      /'; failed=1; }
  pid=$(pid_state "$name" "$service" | cut -d' ' -f1)
  podman exec "$name" sh -c "kill -KILL $pid"
  restarted=""
  for _ in $(seq 1 200); do
    now=$(pid_state "$name" "$service")
    [ -n "$now" ] && [ "${now%% *}" != "$pid" ] && [ "${now#* }" = up ] && { restarted=${now%% *}; break; }
    sleep 0.3
  done
  echo "    SIGKILL to $service (pid $pid): ${restarted:+restarted as pid $restarted}${restarted:-NOT restarted}"
  [ -n "$restarted" ] || failed=1
  t0=$(date +%s%N)
  podman stop -t 20 "$name" >/dev/null
  stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  echo "    podman stop: exit code $code after $stop_ms ms; image $size"
  [ "$code" = 0 ] || failed=1
  podman logs "$name" 2>&1 | grep -E 'hello from|greeting|server:|"event":"(boot|exit)"' | sed 's/^/    log: /' | head -8
  podman rm "$name" >/dev/null
  summary="$summary$(printf '\n    %-15s %-9s up %-3s check %-3s restarted %-3s stop %s (%s ms)' "$kind" "$size" "${ok:+yes}" "$check_code" "${restarted:+yes}" "$code" "$stop_ms")"
done
step "summary:$summary"
[ "$failed" = 0 ] && step "every example: up, checked, restarted, stopped with 0" || die "some example failed (above)"
