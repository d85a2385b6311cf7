#!/usr/bin/env bash
# Installs what warden needs to build and run on a fresh Debian machine with Node.js (as root):
# the OS tools its tests and demo use, the npm dependencies, then the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node_major=20
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt "$need_node_major" ]; then
  echo "warden needs Node.js >= $need_node_major (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# unshare/nsenter (util-linux), ps (procps), curl: the demo and the PID 1 tests use them.
missing=()
command -v unshare >/dev/null || missing+=(util-linux)
command -v ps >/dev/null || missing+=(procps)
command -v curl >/dev/null || missing+=(curl)
# gdb: the signal tests make a thread of warden fault for real (a jump to address 0).
command -v gdb >/dev/null || missing+=(gdb)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing ${missing[*]}: run as root to install them" >&2; exit 1; fi
  echo "== installing ${missing[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== build"
npm run --silent build
