#!/bin/sh
# Runs a test inside a private network namespace in which only the loopback
# interface is up, so that no packet a test sends can leave the machine.
# Usage: netns-run.sh PROGRAM [ARGS...]
set -e
if [ "$(id -u)" = 0 ]; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$0" "$@"' "$@"
fi
# Unprivileged: a user namespace gives us the right to make the network one.
exec unshare --map-root-user --net -- sh -c 'ip link set lo up && exec "$0" "$@"' "$@"
