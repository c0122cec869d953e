#!/bin/sh
# Runs PROGRAM in a private network namespace with loopback and a veth pair
# whose two ends (198.18.0.1, 198.18.0.2: the benchmarking range of RFC 2544)
# both stay inside it. Packets between
# the two addresses still take the kernel's local path, so the link is as
# fast as loopback, but neither address is a loopback one: libhangout then
# uses its Internet-sized SCTP packets (1188 bytes) instead of the 16 KiB
# ones it allows itself on loopback, like webrtcbin always does. This makes
# the two stacks comparable packet for packet.
# Usage: netns-veth.sh PROGRAM [ARGS...]
set -e
setup='ip link set lo up &&
  ip link add hangout0 type veth peer name hangout1 &&
  ip addr add 198.18.0.1/24 dev hangout0 &&
  ip addr add 198.18.0.2/24 dev hangout1 &&
  ip link set hangout0 up && ip link set hangout1 up &&
  exec "$0" "$@"'
if [ "$(id -u)" = 0 ]; then
  exec unshare --net -- sh -c "$setup" "$@"
fi
exec unshare --map-root-user --net -- sh -c "$setup" "$@"
