#!/usr/bin/env bash
# The self-scaling stack in containers, live (docs/stack.md, "Containers"). On a Debian machine
# with Node.js ≥ 20, as root, from a clone of this repository:
#
#   bash scripts/stack.sh          install what is missing (podman & co from apt, npm ci, build),
#                                  build the images, start the balancer and two webapp nodes, then
#                                  scale live under a bounded load to 127.0.0.1:8080: add nodes,
#                                  remove one gracefully (podman stop), kill one hard (podman
#                                  kill -s KILL), kill the balancer's HAProxy with SIGKILL (warden
#                                  holds its listening sockets: no connection is refused),
#                                  printing which node answered the requests, the HAProxy server
#                                  table and the failed requests. The stack keeps running: app on
#                                  127.0.0.1:8080, stats on 127.0.0.1:1936.
#   bash scripts/stack.sh down     stop and remove it (nodes first, gracefully)
#   bash scripts/stack.sh status   its containers and HAProxy's server table
#
# Running it again replaces the previous stack. Only 127.0.0.1 is published and loaded.
# env: STACK_HTTP_PORT (8080), STACK_STATS_PORT (1936), STACK_LOAD_RATE (requests/s, 400),
#      STACK_LOAD_CONCURRENCY (8), STACK_TIMELINE (a file: the load's requests per second and
#      the scaling events, as JSON, for `node dist/bench/charts.js`)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
NET=warden-stack
LABEL=warden.stack=demo
BALANCER=warden-balancer
HTTP_PORT=${STACK_HTTP_PORT:-8080}
STATS_PORT=${STACK_STATS_PORT:-1936}
RATE=${STACK_LOAD_RATE:-400}
CONCURRENCY=${STACK_LOAD_CONCURRENCY:-8}
APP_URL=http://127.0.0.1:$HTTP_PORT/
STATS_URL=http://127.0.0.1:$STATS_PORT/
TOOLS=$REPO/dist/test/containers
T0=$(date +%s%N)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
elapsed() { printf '%5.1fs' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3"; }
step() { printf '\n==> [%s] %s\n' "$(elapsed)" "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
# podman, without the "failed to connect to syslog" notice it prints on hosts without /dev/log.
pm() { podman "$@" 2> >(grep -v 'failed to connect to syslog' >&2); }
# Shows a podman command, then runs it.
run() { printf '    $ %s\n' "$*"; pm "$@" | sed 's/^/      /'; return "${PIPESTATUS[0]}"; }
table() { node "$TOOLS/stats-table.js" --stats "$STATS_URL" "$@"; }
ours() { pm ps -a --filter "label=$LABEL" --format '{{.Names}}' | sort -V; }

remove_stack() {
  local names webs
  names=$(ours)
  if [ -n "$names" ]; then
    # Nodes first (each leaves Serf; the balancer drains it), then the balancer.
    webs=$(grep -v "^$BALANCER\$" <<<"$names" || true)
    # shellcheck disable=SC2086
    [ -z "$webs" ] || pm stop -t 30 $webs >/dev/null
    pm stop -t 30 "$BALANCER" >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    pm rm -f -t 5 $names >/dev/null
    info "removed: $(echo $names)"
  fi
  if pm network exists "$NET"; then pm network rm "$NET" >/dev/null; info "removed network $NET"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case ${1:-up} in
  down)
    command -v podman >/dev/null || { echo "stack: podman is not installed: nothing to stop"; exit 0; }
    step "stopping the stack"
    remove_stack
    step "stopped"
    exit 0 ;;
  status)
    pm ps -a --filter "label=$LABEL" --format '{{.Names}}\t{{.Status}}\t{{.Ports}}'
    table
    exit 0 ;;
  up) ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac

# --- 1. what is missing ----------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root: it installs packages and runs rootful podman"
command -v node >/dev/null || die "Node.js ≥ 20 is needed (https://nodejs.org or your distribution)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || die "Node.js ≥ 20 is needed, this is $(node --version)"

step "1/5 installing what is missing"
sh scripts/install-container-deps.sh | sed 's/^/    /'
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  info "npm ci"
  npm ci --no-audit --no-fund --loglevel=error 2>&1 | sed 's/^/    /'
else
  info "node_modules up to date"
fi
info "npm run build (dist/: tsc, then the bundled boot path)"
if ! npm run --silent build > "/tmp/warden-stack-build.log" 2>&1; then
  grep -E 'error|Error' /tmp/warden-stack-build.log | head -n 5 | cut -c1-160 | sed 's/^/      /'
  die "the build failed (all of it in /tmp/warden-stack-build.log)"
fi
[ -f dist/src/cli/boot.bundle.js ] && [ -f "$TOOLS/load-client.js" ] || die "the build did not produce dist/ (see /tmp/warden-stack-build.log)"

# --- 2. images -------------------------------------------------------------------------------
step "2/5 images (scripts/build-images.sh)"
bash scripts/build-images.sh 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "building the images failed (output above)"

# --- 3. a fresh stack: network, balancer, two nodes ------------------------------------------
step "3/5 starting the stack (replacing the previous one, if any)"
remove_stack
for port in "$HTTP_PORT" "$STATS_PORT"; do
  if port_busy "$port"; then
    die "127.0.0.1:$port is in use by something else (a compose stack? \`podman ps\`; \`podman-compose -p warden-stack down\`)"
  fi
done
run network create --label "$LABEL" "$NET"
run run -d --name "$BALANCER" --hostname balancer --network "$NET" --network-alias balancer \
  --label "$LABEL" -p "127.0.0.1:$HTTP_PORT:80" -p "127.0.0.1:$STATS_PORT:1936" \
  localhost/warden-haproxy:latest
pm exec "$BALANCER" warden wait --ready --timeout 20000 haproxy serf >/dev/null \
  || { pm logs --tail 40 "$BALANCER"; die "the balancer did not get ready"; }
info "balancer ready: haproxy and serf up under warden (podman exec $BALANCER warden status)"

start_node() {
  run run -d --name "warden-$1" --hostname "$1" --network "$NET" --label "$LABEL" -e TAG=demo \
    localhost/warden-webapp:latest
}
start_node web-1
start_node web-2
table --until up:web-1,web-2 --timeout 30 || die "the nodes did not join (podman logs $BALANCER)"
table

# --- 4. live scaling under load --------------------------------------------------------------
step "4/5 live scaling under load: $CONCURRENCY keep-alive connections, ≤ $RATE requests/s to $APP_URL"
info "every second: answers and failures of that second, answers per node, the nodes that"
info "answered the latest requests (round-robin), and the totals"
work=$(mktemp -d /tmp/warden-stack.XXXXXX)
node "$TOOLS/load-client.js" --url "$APP_URL" --concurrency "$CONCURRENCY" --rate "$RATE" \
  --duration 300 --every 1000 --events "$work/events" --summary "$work/summary" --timeline "$work/timeline" &
load_pid=$!
stop_load() { kill -TERM "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; }
trap 'stop_load; rm -rf "$work"' EXIT
sleep 3
# The scaling events, for the timeline: "EPOCH_MS label".
mark() { echo "$(now_ms) $*" >> "$work/marks"; }
# Failed and refused requests of the load's intervals that ended after EPOCH_MS.
failures_since() {
  node -e '
    const since = Number(process.argv[2]);
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((p) => p.at > since);
    const sum = (k) => lines.reduce((n, p) => n + p[k], 0);
    console.log(`${sum("ok")} answered, ${sum("failed")} failed, of them ${sum("refused")} refused`);' "$work/timeline" "$1"
}

declare -A served_ms=()
add_node() {
  local name=$1 t0 t
  step "add a node: $name"
  t0=$(now_ms)
  mark "podman run $name"
  start_node "$name"
  for _ in $(seq 300); do
    t=$(awk -v n="$name" '$1 == n { print $2 }' "$work/events" 2>/dev/null)
    [ -n "$t" ] && break
    sleep 0.1
  done
  [ -n "$t" ] || { pm logs --tail 30 "warden-$name"; die "$name never answered through the balancer"; }
  served_ms[$name]=$((t - t0))
  info "$name: podman run → first request served through the balancer: $((t - t0)) ms"
}

add_node web-3
sleep 3
add_node web-4
sleep 3
table

step "remove a node gracefully: podman stop (SIGTERM to warden: Serf leaves, the balancer drains the node, the webapp finishes)"
t0=$(now_ms)
mark "podman stop web-2"
printf '    $ podman stop -t 30 warden-web-2\n'
pm stop -t 30 warden-web-2 >/dev/null &
stop_pid=$!
table --until down:web-2 --timeout 15 || true
wait "$stop_pid" || die "podman stop warden-web-2 failed"
stop_ms=$(( $(now_ms) - t0 ))
info "web-2 stopped in $stop_ms ms, exit code $(pm inspect --format '{{.State.ExitCode}}' warden-web-2) ($(pm logs warden-web-2 2>&1 | grep -c '"event":"exited"') services exited)"
table --until gone:web-2 --timeout 30 || true
sleep 3

step "kill a node hard: podman kill -s KILL (no leave: HAProxy's health check and Serf's failure detection notice)"
t0=$(now_ms)
mark "podman kill -s KILL web-3"
run kill -s KILL warden-web-3
table --until down:web-3 --timeout 30 || true
table
table --until gone:web-3 --timeout 40 || true
info "Serf on the balancer: $(pm exec "$BALANCER" serf members -format=json | node -e '
  let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => console.log(
    JSON.parse(s).members.map((m) => `${m.name} ${m.status}`).sort().join(", ")));')"
sleep 2

step "kill HAProxy hard inside the balancer: SIGKILL (warden holds its listening sockets :80 and :1936, fds 3 and 4)"
info "new connections wait in the socket's queue until warden's next run of HAProxy accepts them:"
info "none is refused; only the requests in flight on the killed HAProxy's own connections can fail"
haproxy_restarts() {
  pm exec "$BALANCER" warden status --json haproxy | node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => console.log(JSON.parse(s)[0].restarts));'
}
restarts=$(haproxy_restarts)
t0=$(now_ms)
mark "kill -9 HAProxy"
run exec "$BALANCER" warden signal KILL haproxy
for _ in $(seq 200); do [ "$(haproxy_restarts)" -gt "$restarts" ] && break; sleep 0.1; done
pm exec "$BALANCER" warden wait --ready --timeout 20000 haproxy >/dev/null \
  || die "HAProxy did not come back (podman logs $BALANCER)"
info "HAProxy SIGKILLed → running and ready again: $(( $(now_ms) - t0 )) ms"
sleep 3
info "during the 3 s after the kill: $(failures_since "$t0")"
pm exec "$BALANCER" warden status | sed 's/^/    /'

add_node web-5
sleep 3

stop_load
trap 'rm -rf "$work"' EXIT
step "the load's totals"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`    ${s.ok + s.failed} requests in ${(s.ms / 1000).toFixed(1)} s: ${s.ok} answered, ${s.failed} failed (${s.refused} connections refused, ${s.reset} reset in flight)`);
  console.log(`    answers per node: ${Object.entries(s.byHost).sort().map(([h, n]) => h + " " + n).join(", ")}`);
  for (const e of s.errors.slice(0, 20)) console.log(`    failed: ${e}`);' "$work/summary"
failed=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).failed' "$work/summary")
info "podman run → first served: $(for n in "${!served_ms[@]}"; do printf '%s %s ms, ' "$n" "${served_ms[$n]}"; done | sed 's/, $//')"
info "failed requests during the scaling: $failed"
if [ -n "${STACK_TIMELINE:-}" ]; then
  node -e '
    const fs = require("fs");
    const [timeline, marks, out] = process.argv.slice(1);
    const points = fs.readFileSync(timeline, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const events = fs.readFileSync(marks, "utf8").trim().split("\n").map((l) => ({ at: Number(l.split(" ")[0]), label: l.slice(l.indexOf(" ") + 1) }));
    fs.writeFileSync(out, JSON.stringify({ title: "scripts/stack.sh: the live stack under load, scaling and kill -9 of HAProxy", points, marks: events }, null, 1) + "\n");' \
    "$work/timeline" "$work/marks" "$STACK_TIMELINE"
  info "timeline: $STACK_TIMELINE (node dist/bench/charts.js draws it when it is docs/data/stack-timeline.json)"
fi

# --- 5. leave it running ---------------------------------------------------------------------
step "5/5 the stack keeps running"
pm rm warden-web-2 warden-web-3 >/dev/null
pm ps --filter "label=$LABEL" --format '    {{.Names}}\t{{.Status}}\t{{.Ports}}'
table
cat <<EOF

    app:        curl -s $APP_URL            (node name, address, session counter)
    stats page: $STATS_URL                   (HAProxy; CSV: ${STATS_URL};csv)
    a node:     podman exec warden-web-1 warden status
    scale up:   podman run -d --name warden-web-6 --hostname web-6 --network $NET --label $LABEL localhost/warden-webapp
    scale down: podman stop warden-web-6
    logs:       podman logs -f $BALANCER
    stop it:    bash scripts/stack.sh down
EOF
