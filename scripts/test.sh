#!/usr/bin/env bash
# Runs every test: typecheck and lint, unit tests, the integration tests that boot warden as a
# real PID 1, and the cluster tests (HAProxy + Serf + webapps in network namespaces). As root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" != 0 ]; then echo "the PID 1 and cluster tests need root (unshare, ip netns): run as root" >&2; exit 1; fi
# The cluster tests run real HAProxy, Serf and webapps, each node in its own network namespace;
# the container tests the same stack as podman containers (images built locally when missing).
sh scripts/install-stack-deps.sh
sh scripts/install-container-deps.sh
# The overlay tests run execline scripts, and compare warden with Debian's s6 (s6-svscan,
# s6-svwait, s6-svstat, s6-notifyoncheck) on the same service dirs; s6-protocol and s6-run-dir run
# s6-supervise, s6-svc, s6-svok, s6-svdt, s6-svlisten1 and s6-notifyoncheck against warden.
sh -c '. scripts/lib/apt.sh && apt_install_pairs test "s6-svscan:s6 s6-supervise:s6 s6-svwait:s6 s6-svok:s6 s6-svdt:s6 s6-svlisten1:s6 s6-notifyoncheck:s6 execlineb:execline"'
# The release (npm run dist) is built once here; the roots tests boot it in a busybox and a
# musl root.
sh scripts/install-dist-deps.sh
echo "== lint"
npm run --silent lint
echo "== release"
node scripts/dist.mjs --fast
echo "== tests"
node --test --test-concurrency=1 $(find dist/test -name '*.test.js' | sort)
