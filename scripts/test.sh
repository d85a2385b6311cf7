#!/usr/bin/env bash
# Runs every test: typecheck and lint, unit tests, then the integration tests that boot warden
# as a real PID 1 (they need root for `unshare --pid`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" != 0 ]; then echo "the PID 1 tests need root (unshare --pid): run as root" >&2; exit 1; fi
echo "== lint"
npm run --silent lint
echo "== tests"
node --test --test-concurrency=1 $(find dist/test -name '*.test.js' | sort)
