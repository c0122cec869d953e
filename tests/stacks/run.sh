#!/bin/sh
# Runs the interop suite of other WebRTC stacks (tests/stacks/*.test.mjs)
# with `node --test`, twice, inside a private network namespace:
#   loopback  the namespace holds only lo; everyone runs in it;
#   veth      a veth pair (198.18.0.1 here, 198.18.0.2 in a second namespace
#             of our own, where the pipelines run); nothing has a way out.
# Exits 77 (meson's "skipped") when node is not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not found; install nodejs and npm (scripts/install-deps.sh) to run the stacks suite"
    exit 77
  fi
  if ! command -v nsenter >/dev/null 2>&1; then
    echo "SKIP: nsenter not found; install util-linux (scripts/install-deps.sh) to run the stacks suite"
    exit 77
  fi
  # Both stacks come prebuilt in their npm packages.
  if [ ! -f "$here/node_modules/.package-lock.json" ] \
      || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export HANGOUT_IN_NETNS=1
  # A PID namespace too: when this script (its init) ends, the kernel ends
  # every process left in it, a crashed member's server and pipelines too.
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net --pid --fork --mount-proc -- "$0" "$@"
  fi
  exec unshare --map-root-user --net --pid --fork --mount-proc -- "$0" "$@"
fi

ip link set lo up
cd "$here"
# One test at a time: each runs a server, pipelines and members on 2 cores.
status=0
HANGOUT_STACKS_NETWORK=loopback node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs || status=1

# The second namespace: a process that only holds it (ended with the PID
# namespace, and with it the namespace and the veth pair).
unshare --net sleep 3600 &
holder=$!
while [ "$(readlink /proc/$holder/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
peer_netns=/proc/$holder/ns/net
ip link add stacks0 type veth peer name stacks1
ip link set stacks1 netns "$holder"
ip addr add 198.18.0.1/30 dev stacks0
ip link set stacks0 up
nsenter --net="$peer_netns" sh -c \
  'ip link set lo up && ip addr add 198.18.0.2/30 dev stacks1 && ip link set stacks1 up'
HANGOUT_STACKS_NETWORK=veth HANGOUT_STACKS_PEER_NETNS=$peer_netns \
  node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs || status=1
exit $status
