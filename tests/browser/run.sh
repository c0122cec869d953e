#!/bin/sh
# Runs the browser suite (tests/browser/*.test.mjs) with `node --test` inside a
# private network namespace: lo, plus a veth pair whose both ends stay in it.
# Measured here: with lo alone, headless Chromium emits no ICE candidate (its
# mDNS responder will not start on loopback); with an addressed veth end,
# multicast on and a default route through it, it emits one .local host
# candidate. Nothing leaves the namespace: the veth pair has no way out.
# Exits 77 (meson's "skipped") when Debian's chromium is not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${HANGOUT_CHROMIUM:-/usr/bin/chromium}

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP: $CHROMIUM not found; install Debian's chromium (scripts/install-deps.sh) to run the browser suite"
    exit 77
  fi
  # playwright-core only: it drives the system Chromium, downloads no browser.
  if [ ! -f "$here/node_modules/playwright-core/package.json" ] \
      || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  export HANGOUT_IN_NETNS=1 HANGOUT_CHROMIUM="$CHROMIUM"
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net -- "$0" "$@"
  fi
  exec unshare --map-root-user --net -- "$0" "$@"
fi

# Inside the namespace.
ip link set lo up
ip link add hw0 type veth peer name hw1
ip addr add 198.18.0.1/24 dev hw0
ip link set hw0 multicast on up
ip link set hw1 multicast on up
ip route add default dev hw0

: "${HANGOUT_TEST_OUTPUT:=$here/output}"
export HANGOUT_TEST_OUTPUT
mkdir -p "$HANGOUT_TEST_OUTPUT"
cd "$here"
# One file at a time: each starts its own server and browsers on 2 cores.
# The spec reporter ends with every failure and its error, so the last
# lines of the log (all that meson shows of a long one) say what failed.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs
