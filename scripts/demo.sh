#!/usr/bin/env bash
# The main job, until the stack lands: boot warden as a real PID 1 (its own PID namespace) over
# the example services, show them running, kill one and watch it come back, then stop the
# "container" with SIGTERM the way `docker stop` does and show the exit code.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ "$(id -u)" = 0 ] || { echo "run as root: a PID namespace needs it" >&2; exit 1; }

log=$(mktemp)
# The demo's own control socket and log dir, not the host's /run and /var/log.
state=$(mktemp -d)
export WARDEN_SOCKET=$state/control.sock WARDEN_LOG_DIR=$state/log WARDEN_RUN_DIR=$state/run
# PID 1 of its own PID namespace, but on the host's /run: s6-overlay's paths there are not the demo's.
export WARDEN_S6_RUNTIME=0
warden() { node dist/src/cli/main.js "$@"; }
WARDEN_LOG_FORMAT=pretty unshare --pid --fork --mount-proc \
  node dist/src/cli/main.js boot --services examples/services.d 2>"$log" >"$log.out" &
unshare_pid=$!
cleanup() { kill -9 "$unshare_pid" 2>/dev/null || true; rm -rf "$log" "$log.out" "$state"; }
trap cleanup EXIT

# warden is PID 1 inside; outside it is the child of unshare.
for _ in $(seq 50); do
  warden=$(cat /proc/"$unshare_pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)
  [ -n "$warden" ] && break
  sleep 0.1
done
inside() { nsenter -t "$warden" -p -m "$@"; }
sleep 2

echo; echo "== the container's processes, as PID 1 sees them"
inside ps -o pid,ppid,stat,etime,args -e --forest

echo; echo "== warden status (the control socket)"
warden status --json | node -e 'for (const s of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(`${s.name.padEnd(8)} ${s.state.padEnd(9)} pid ${String(s.pid).padEnd(5)} ready ${s.ready} restarts ${s.restarts}`)'

echo; echo "== the web service answers"
curl -s http://127.0.0.1:8099/ || echo "(web did not answer)"

web=$(inside ps -o pid=,args= -e | awk '/node server.mjs/ && !/awk/ {print $1; exit}')
echo; echo "== kill -9 the web service (pid $web inside) ..."
inside kill -9 "$web"
sleep 1
echo "   ... warden restarted it:"
inside ps -o pid,ppid,stat,etime,args -e --forest | grep -E 'PID|node server.mjs' | grep -v grep
curl -s http://127.0.0.1:8099/ || echo "(web did not answer)"

echo; echo "== the flaky service crashes every 3 s: warden restarts it with backoff (see the log)"
sleep 4

echo; echo "== warden logs -n 6 (every service's captured output, merged in time order)"
warden logs -n 6

echo; echo "== SIGTERM to PID 1, as docker stop does"
kill -TERM "$warden"
set +e
wait "$unshare_pid"
code=$?
set -e
echo; echo "== warden's log"
cat "$log"
echo; echo "== services' output"
cat "$log.out"
echo; echo "== exit code: $code (0: a requested shutdown, every service stopped in time)"
