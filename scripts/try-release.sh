#!/usr/bin/env bash
# Runs the README's and docs/s6-overlay.md's Dockerfiles (examples/release/*): the release
# tarball ADDed to alpine:3.20, debian:bookworm-slim and haproxy:2.6, `ENTRYPOINT ["/init"]`.
# For each: podman build, podman run, `warden status` inside, a SIGKILLed service restarted,
# `podman stop` (SIGTERM) and its exit code 0, the image's size.
#
# No registry image is pulled (--pull=never). A base that is missing is made here from Debian's
# packages, as a stand-in under the official name (say so when you quote a result):
#   alpine:3.20           busybox-static + Debian's musl (the only C library), podman import
#   haproxy:2.6           debian:bookworm-slim + Debian's haproxy (2.6), laid out as the official
#                         image (config in /usr/local/etc/haproxy, USER haproxy)
#   debian:bookworm-slim  scripts/build-images.sh --base-only (debootstrap)
# Needs root, podman, a release (`npm run dist`; made here when missing) and
# scripts/install-dist-deps.sh's packages.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=$REPO/release/warden-linux-x64.tar.xz
BUILD_TMP=${BUILD_TMP:-/var/tmp}
cd "$REPO"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'try-release: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (rootful podman)"
sh scripts/install-dist-deps.sh >/dev/null
[ -f "$RELEASE" ] || { step "npm run dist"; npm run dist; }

if ! podman image exists docker.io/library/debian:bookworm-slim; then
  step "stand-in debian:bookworm-slim"
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

failed=0
for kind in alpine debian haproxy; do
  image=localhost/warden-example-$kind
  step "examples/release/$kind: podman build"
  cp "$RELEASE" "examples/release/$kind/"
  podman build --pull=never -t "$image" "examples/release/$kind" | sed 's/^/    /'
  rm -f "examples/release/$kind/warden-linux-x64.tar.xz"
  name=warden-example-$kind
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman run -d --name "$name" "$image" >/dev/null
  service=$([ "$kind" = haproxy ] && echo haproxy || echo hello)
  ok=""
  for _ in $(seq 1 100); do
    if podman exec "$name" warden status --json "$service" 2>/dev/null | grep -q '"state": "up"'; then ok=1; break; fi
    sleep 0.3
  done
  podman exec "$name" warden status || true
  [ -n "$ok" ] || { echo "    $kind: $service never came up"; podman logs "$name" | tail -20; failed=1; }
  pid=$(podman exec "$name" warden status --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | head -n1)
  podman exec "$name" sh -c "kill -KILL $pid"
  restarted=""
  for _ in $(seq 1 100); do
    now=$(podman exec "$name" warden status --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | head -n1)
    if [ -n "$now" ] && [ "$now" != "$pid" ]; then restarted=1; break; fi
    sleep 0.3
  done
  echo "    SIGKILL to pid $pid: ${restarted:+restarted as pid $now}${restarted:-NOT restarted}"
  [ -n "$restarted" ] || failed=1
  podman stop -t 20 "$name" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  echo "    podman stop: exit code $code; image $(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
  [ "$code" = 0 ] || failed=1
  podman logs "$name" 2>&1 | grep -E 'hello from|"event":"(boot|exit)"' | sed 's/^/    log: /' | head -5
  podman rm "$name" >/dev/null
done
[ "$failed" = 0 ] && step "all three: up, restarted, stopped with 0" || die "some example failed (above)"
