# Sourced by the stack's run scripts, which find it beside their service dirs through their own
# path ($0: warden starts `run` by its path; the cwd is the service's runtime dir, not its dir):
# the defaults of every variable the stack reads, exported so that the Node programs and the
# shell agree on the paths. Set any of them in the container's environment to override.

# The stack's install: dist/ (compiled) and src/stack/haproxy/templates/ live under it.
: "${STACK_HOME:=$(cd "${0%/*}/../../.." && pwd)}"
: "${STACK_RUN_DIR:=/run/stack}"
: "${STACK_HANDLER:=$STACK_HOME/dist/src/stack/serf-handler/main.js}"
# What runs the Serf handler: Node, or in the balancer image (no Node) `warden js`, the Node
# inside warden's executable.
: "${STACK_NODE:=node}"
# warden's CLI, for scripts that talk to it (`warden notify`): the one on PATH (the images'),
# else the build's.
: "${WARDEN:=$(command -v warden || echo "node $STACK_HOME/dist/src/cli/main.js")}"
: "${STACK_TEMPLATE_DIR:=$STACK_HOME/src/stack/haproxy/templates}"
: "${HAPROXY_BIN:=$(command -v haproxy || echo /usr/sbin/haproxy)}"
: "${HAPROXY_CONFIG:=$STACK_RUN_DIR/haproxy.cfg}"
: "${HAPROXY_ADMIN_SOCKET:=$STACK_RUN_DIR/haproxy-admin.sock}"
: "${HAPROXY_MASTER_SOCKET:=$STACK_RUN_DIR/haproxy-master.sock}"
: "${WEBAPP_PORT:=3000}"
: "${SERF_NODE:=${HOSTNAME:-$(hostname)}}"
: "${SERF_BIND:=0.0.0.0:7946}"
: "${SERF_RPC_ADDR:=127.0.0.1:7373}"
# Backends retry-join this (names or addresses, space-separated): start order does not matter.
: "${SERF_JOIN:=balancer}"
: "${SERF_RETRY_INTERVAL:=1s}"
: "${SERF_LOG_LEVEL:=info}"
export STACK_HOME STACK_RUN_DIR STACK_HANDLER STACK_NODE WARDEN STACK_TEMPLATE_DIR HAPROXY_BIN HAPROXY_CONFIG \
  HAPROXY_ADMIN_SOCKET HAPROXY_MASTER_SOCKET WEBAPP_PORT SERF_NODE SERF_BIND SERF_RPC_ADDR \
  SERF_JOIN SERF_RETRY_INTERVAL SERF_LOG_LEVEL
