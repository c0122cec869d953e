#!/bin/sh
# Runs the hostile-member suite (tests/hostile/*.test.mjs) with `node --test`
# inside a private network namespace with only lo up: the victims, the
# server and the hostile member (bound to 127.0.0.1, since libdatachannel
# leaves loopback out of its candidates otherwise) never reach a network.
# Exits 77 (meson's "skipped") when node is not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not found; install nodejs and npm (scripts/install-deps.sh) to run the hostile suite"
    exit 77
  fi
  # node-datachannel ships libdatachannel prebuilt in its npm package.
  if [ ! -f "$here/node_modules/node-datachannel/package.json" ] \
      || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export HANGOUT_IN_NETNS=1
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net -- "$0" "$@"
  fi
  exec unshare --map-root-user --net -- "$0" "$@"
fi

ip link set lo up
cd "$here"
# One batch at a time: each runs five processes and a transfer on 2 cores.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs
