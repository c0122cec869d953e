#!/bin/sh
# Installs the Debian 12 packages gst-hangout builds, tests and benchmarks
# with (clang and libFuzzer: the fuzz targets, tests/fuzz; coturn and
# openssl: the TURN tests; glib-networking: TLS, turns: servers included;
# iptables and coturn: the NAT routers and the STUN/TURN server of the
# network lab, tests/lab; python3-libtorrent: the reference of the swarm
# benchmark, bench/swarm.sh; node-qrcode-generator: the web page's QR code
# of the invite, built into the server; zbar-tools: the browser suite reads
# that QR code back; libhiredis-dev: hangout-server --redis, rooms across
# servers, and redis-server and haproxy: their tests). Idempotent: does
# nothing when everything is already there.
set -eu

PACKAGES="meson ninja-build pkg-config gcc
  libglib2.0-dev libglib2.0-dev-bin libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
  gstreamer1.0-tools libnice-dev libusrsctp-dev libgnutls28-dev
  libsoup-3.0-dev libjson-glib-dev glib-networking iproute2 iptables
  util-linux chromium coturn openssl python3-libtorrent
  node-qrcode-generator zbar-tools libhiredis-dev redis-server haproxy
  clang-14 libfuzzer-14-dev libclang-rt-14-dev"

# The browser suite drives Chromium from Node.js (playwright-core). A machine
# that already has node and npm (a newer Node than Debian's) keeps them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
