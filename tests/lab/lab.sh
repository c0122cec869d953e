# gst-hangout network lab: emulated networks in network namespaces, sourced
# by the lab tests (tests/lab/test-*.sh) and bench/lossy.sh.
#
# Everything it makes (namespaces, processes) is named or recorded here and
# removed on exit, whatever way the script ends. Addresses come from
# 198.18.0.0/15 (RFC 2544's benchmarking range) only. Run it as root inside
# a private network namespace (tests/netns-run.sh), so the TUN devices the
# link emulator creates never appear where other programs live.
#
# Environment: LINKEM, HANGOUT_SERVER (build-tree programs), GST_PLUGIN_PATH.
#
# Topologies:
#   lab_link SPEC [AB BA]   two members, m1 (198.18.1.1) and m2 (198.18.1.2),
#                           joined by one link through linkem (SPEC for both
#                           directions, then AB and BA for each one)
#   lab_homes eim|symmetric [block-udp]
#                           two homes h1 and h2 (198.18.101.2, 198.18.102.2),
#                           each behind its own NAT router (r1, r2), on a public
#                           segment 198.18.0.0/24 whose "pub" namespace
#                           (198.18.0.1) runs hangout-server and coturn;
#                           block-udp: the routers pass UDP to pub only
#   lab_star N SHARER RATES QUEUE
#                           a sharer s (198.18.0.10) and receivers r1..rN
#                           (198.18.0.11...) on one bridge in the hub
#                           namespace (198.18.0.1, which runs hangout-server),
#                           every member's upload shaped by tbf: the sharer's
#                           at SHARER Mbit/s, the receivers' at RATES (one
#                           each), each queue QUEUE ms deep at its rate

# Namespaces and devices are named after it; a script may set its own
# prefix (bench/swarm.sh) before sourcing this file.
LAB_ID="${LAB_ID:-lab-$$}"
# A command every pipeline runs under (bench/swarm.sh: one that stamps each
# line of its output with the time), empty by default.
LAB_GST_WRAPPER="${LAB_GST_WRAPPER:-}"
# Logs are read by people; the peer layer's one debug line per connection
# says which side ended it and why.
export GST_DEBUG_NO_COLOR=1
export GST_DEBUG="${GST_DEBUG:+$GST_DEBUG,}hangout-peer:5"
LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$LAB_ID.XXXXXX")
LAB_NAMESPACES=""
LAB_PIDS=""
LAB_SERVER_PID=""
LAB_TURN_USER="lab"
LAB_TURN_PASSWORD="lab-turn-secret"

lab_log() { echo "lab: $*" >&2; }

lab_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# lab_teardown: stops every process and removes every namespace made so far,
# so that a script (bench/lossy.sh) can build the next topology.
lab_teardown() {
  for pid in $LAB_PIDS; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $LAB_PIDS; do
    wait "$pid" 2>/dev/null || true
  done
  for ns in $LAB_NAMESPACES; do
    ip netns del "$ns" 2>/dev/null || true
  done
  LAB_PIDS=""
  LAB_NAMESPACES=""
}

lab_cleanup() {
  status=$?
  lab_teardown
  if [ "$status" = 0 ] || [ -n "${LAB_KEEP_DIR:-}" ]; then
    [ -n "${LAB_KEEP_DIR:-}" ] && lab_log "logs kept in $LAB_DIR"
  else
    # A failure leaves what the user would look at in meson's log.
    for f in "$LAB_DIR"/*.log; do
      [ -f "$f" ] || continue
      echo "----- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    done
  fi
  [ -n "${LAB_KEEP_DIR:-}" ] || rm -rf "$LAB_DIR"
  exit "$status"
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

# Skips the test (meson's 77) when a program it needs is not installed.
lab_require() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "SKIP: $tool not found (scripts/install-deps.sh installs it)"
      exit 77
    }
  done
}

[ "$(id -u)" = 0 ] || { echo "SKIP: the lab needs root (namespaces, TUN, iptables)"; exit 77; }
lab_require ip gst-launch-1.0 sha256sum timeout

# lab_ns NAME: a namespace $LAB_ID-NAME with lo up and IPv4 only: the
# members' pairs then use the lab's addresses, not IPv6 link-local ones.
lab_ns() {
  ip netns add "$LAB_ID-$1"
  LAB_NAMESPACES="$LAB_NAMESPACES $LAB_ID-$1"
  lab_in "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  lab_in "$1" ip link set lo up
}

# lab_in NAME COMMAND...: runs COMMAND in namespace NAME.
lab_in() {
  ns=$1; shift
  ip netns exec "$LAB_ID-$ns" "$@"
}

# lab_bg NAME LOG COMMAND...: starts COMMAND in namespace NAME, output to
# $LAB_DIR/LOG.log; its PID is in $LAB_PID and is stopped on exit.
lab_bg() {
  ns=$1; log=$2; shift 2
  # Emptied here, not by the child's redirection: a wait on the log that
  # follows must not find what a previous run wrote there.
  : >"$LAB_DIR/$log.log"
  ip netns exec "$LAB_ID-$ns" "$@" >>"$LAB_DIR/$log.log" 2>&1 &
  LAB_PID=$!
  LAB_PIDS="$LAB_PIDS $LAB_PID"
}

# lab_wait_for SECONDS WHAT COMMAND...: waits until COMMAND succeeds.
lab_wait_for() {
  deadline=$(( $(date +%s) + $1 )); what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || lab_fail "timed out waiting for $what"
    sleep 0.1
  done
}

# lab_random_file PATH SIZE: random content, so that nothing can be guessed;
# SIZE as head -c takes it (4M: 4 MiB, 512K: 512 KiB).
lab_random_file() {
  head -c "$2" /dev/urandom >"$1"
}

lab_link() {
  lab_require "$LINKEM"
  lab_ns m1
  lab_ns m2
  # The devices appear here first; linkem keeps their fds across the move.
  set -- "--both=$1" ${2:+"--ab=$2"} ${3:+"--ba=$3"}
  : >"$LAB_DIR/linkem.log"
  "$LINKEM" --tun-a "${LAB_ID}a" --tun-b "${LAB_ID}b" --seed "${LAB_SEED:-1}" "$@" \
    >>"$LAB_DIR/linkem.log" 2>&1 &
  LAB_LINKEM_PID=$!
  LAB_PIDS="$LAB_PIDS $LAB_LINKEM_PID"
  lab_wait_for 10 "linkem's devices" grep -q '^ready' "$LAB_DIR/linkem.log"
  ip link set "${LAB_ID}a" netns "$LAB_ID-m1"
  ip link set "${LAB_ID}b" netns "$LAB_ID-m2"
  lab_in m1 ip addr add 198.18.1.1 peer 198.18.1.2 dev "${LAB_ID}a"
  lab_in m2 ip addr add 198.18.1.2 peer 198.18.1.1 dev "${LAB_ID}b"
  lab_in m1 ip link set "${LAB_ID}a" up
  lab_in m2 ip link set "${LAB_ID}b" up
  LAB_SERVER_NS=m1
  LAB_SERVER_HOST=198.18.1.1
}

# lab_linkem_counters: stops linkem and prints its counters.
lab_linkem_counters() {
  kill -TERM "$LAB_LINKEM_PID" || true
  # Waited for in its log, not with wait: this may run in a pipeline's
  # subshell, whose wait does not know linkem.
  lab_wait_for 10 "linkem's counters" grep -q '^b->a' "$LAB_DIR/linkem.log"
  grep -v '^ready' "$LAB_DIR/linkem.log" >&2
}

# lab_router N NAT BLOCK: home hN behind router rN, WAN 198.18.0.1N.
lab_router() {
  n=$1; nat=$2; block=$3
  lab_ns "r$n"
  lab_ns "h$n"
  ip link add "wan$n" netns "$LAB_ID-r$n" type veth peer name "pub$n" netns "$LAB_ID-pub"
  ip link add "lan$n" netns "$LAB_ID-r$n" type veth peer name "eth$n" netns "$LAB_ID-h$n"
  lab_in pub ip link set "pub$n" master br0 up
  lab_in "r$n" ip addr add "198.18.0.1$n/24" dev "wan$n"
  lab_in "r$n" ip addr add "198.18.10$n.1/24" dev "lan$n"
  lab_in "r$n" ip link set "wan$n" up
  lab_in "r$n" ip link set "lan$n" up
  lab_in "h$n" ip addr add "198.18.10$n.2/24" dev "eth$n"
  lab_in "h$n" ip link set "eth$n" up
  lab_in "h$n" ip route add default via "198.18.10$n.1"
  lab_in "r$n" ip route add default via 198.18.0.254
  lab_in "r$n" sysctl -qw net.ipv4.ip_forward=1
  # Linux keeps a flow's source port when it is free: the same mapping for
  # every destination (endpoint-independent). --random draws a port per
  # flow: a symmetric NAT, whose mapping towards STUN tells peers nothing.
  if [ "$nat" = symmetric ]; then
    lab_in "r$n" iptables -t nat -A POSTROUTING -o "wan$n" -j MASQUERADE --random
  else
    lab_in "r$n" iptables -t nat -A POSTROUTING -o "wan$n" -j MASQUERADE
  fi
  # A home router drops what nobody inside asked for. Dropped before it is
  # confirmed, such a packet leaves no conntrack entry behind either: one
  # would take the port that the member's own packets to that peer are
  # about to be mapped from, and Linux would map those from another port,
  # as a symmetric NAT does.
  lab_in "r$n" iptables -A INPUT -i "wan$n" -m conntrack --ctstate NEW -j DROP
  if [ "$block" = block-udp ]; then
    lab_in "r$n" iptables -A FORWARD -o "wan$n" -p udp ! -d 198.18.0.1 -j DROP
  fi
}

lab_homes() {
  lab_require iptables turnserver
  lab_ns pub
  lab_in pub ip link add br0 type bridge
  lab_in pub ip addr add 198.18.0.1/24 dev br0
  lab_in pub ip link set br0 up
  # The rest of the Internet, where the homes' private addresses lead: no
  # one answers at 198.18.0.254, so what goes there is lost as it would be
  # out there. Without a route, sending to a private address fails at once,
  # and coturn closes an allocation whose peer it cannot send to.
  lab_in pub ip route add default via 198.18.0.254
  lab_router 1 "$1" "${2:-}"
  lab_router 2 "$1" "${2:-}"
  # coturn: STUN and TURN on 198.18.0.1:3478, one static long-term user, its
  # database in our directory, no TLS, no CLI; logs in full to its log file.
  lab_bg pub coturn turnserver -n --listening-ip=198.18.0.1 --relay-ip=198.18.0.1 \
    --listening-port=3478 --min-port=49152 --max-port=49999 \
    --lt-cred-mech --realm=lab --user="$LAB_TURN_USER:$LAB_TURN_PASSWORD" \
    --userdb="$LAB_DIR/turndb" --no-tls --no-dtls --no-cli --fingerprint \
    --pidfile="$LAB_DIR/turnserver.pid" --log-file=stdout --verbose
  lab_wait_for 10 "coturn" grep -q 'UDP listener opened on: 198.18.0.1:3478' "$LAB_DIR/coturn.log"
  LAB_SERVER_NS=pub
  LAB_SERVER_HOST=198.18.0.1
  LAB_STUN="stun://198.18.0.1:3478"
  LAB_TURN="turn://$LAB_TURN_USER:$LAB_TURN_PASSWORD@198.18.0.1:3478"
}

# lab_shape NAME MBIT QUEUE: the member's upload (its veth's egress) at
# MBIT Mbit/s, by tbf (this kernel has no netem); downloads are not shaped.
# A burst of 32 KB is 2.6 ms at 100 Mbit/s; the queue holds QUEUE ms.
lab_shape() {
  lab_require tc
  lab_in "$1" tc qdisc add dev up0 root tbf rate "${2}mbit" burst 32kb latency "${3}ms"
}

lab_star() {
  lab_ns hub
  lab_in hub ip link add br0 type bridge
  lab_in hub ip addr add 198.18.0.1/24 dev br0
  lab_in hub ip link set br0 up
  i=0
  for name in s $(seq -f 'r%g' "$1"); do
    lab_ns "$name"
    ip link add up0 netns "$LAB_ID-$name" type veth peer name "$name" netns "$LAB_ID-hub"
    lab_in hub ip link set "$name" master br0 up
    lab_in "$name" ip addr add "198.18.0.$((10 + i))/24" dev up0
    lab_in "$name" ip link set up0 up
    i=$((i + 1))
  done
  lab_shape s "$2" "$4"
  i=1
  for rate in $3; do
    lab_shape "r$i" "$rate" "$4"
    i=$((i + 1))
  done
  LAB_SERVER_NS=hub
  LAB_SERVER_HOST=198.18.0.1
}

# lab_tbf_sent NAME: the bytes a member's upload let out (lab_shape).
lab_tbf_sent() {
  lab_in "$1" tc -s qdisc show dev up0 | awk '/Sent/ { print $2; exit }'
}

# lab_tbf_dropped NAME: the packets it dropped (its queue full).
lab_tbf_dropped() {
  lab_in "$1" tc -s qdisc show dev up0 | awk '/Sent/ { sub(",", "", $7); print $7; exit }'
}

# lab_server [LOG]: hangout-server on $LAB_SERVER_HOST:8080, waits until it
# listens; the same port each time, so a restarted one is found again.
lab_server() {
  log=${1:-server}
  lab_bg "$LAB_SERVER_NS" "$log" "$HANGOUT_SERVER" --host "$LAB_SERVER_HOST" --port 8080
  LAB_SERVER_PID=$LAB_PID
  lab_wait_for 10 "hangout-server" grep -q "ws://$LAB_SERVER_HOST:8080/ws" "$LAB_DIR/$log.log"
  LAB_SERVER_URL="ws://$LAB_SERVER_HOST:8080/ws"
}

# lab_receiver NS LOG FILE SECONDS [PROPERTY=VALUE...]: gst-launch-1.0
# hangoutsrc ! filesink, bounded by SECONDS; PID in $LAB_PID.
lab_receiver() {
  ns=$1; log=$2; out=$3; seconds=$4; shift 4
  lab_bg "$ns" "$log" $LAB_GST_WRAPPER timeout -s INT -k 5 "$seconds" gst-launch-1.0 -m -e \
    hangoutsrc room=lab server="$LAB_SERVER_URL" display-name="$log" "$@" \
    ! filesink location="$out"
}

# lab_sender NS LOG FILE SECONDS [PROPERTY=VALUE...]: gst-launch-1.0
# filesrc ! hangoutsink; PID in $LAB_PID.
lab_sender() {
  ns=$1; log=$2; in=$3; seconds=$4; shift 4
  lab_bg "$ns" "$log" $LAB_GST_WRAPPER timeout -s INT -k 5 "$seconds" gst-launch-1.0 -m \
    filesrc location="$in" ! hangoutsink room=lab server="$LAB_SERVER_URL" \
    display-name="$log" "$@"
}

# lab_pair LOG: the candidate types of the ICE pair the member connected
# through, "LOCAL REMOTE" (host, srflx, prflx, relay), as its element posts
# them in hangout-member-joined's transport (gst-launch-1.0 -m prints it).
lab_pair() {
  grep 'hangout-member-joined' "$LAB_DIR/$1.log" | tail -n 1 \
    | sed -n 's/.*local-type\\=\\(string\\)\([a-z]*\).*remote-type\\=\\(string\\)\([a-z]*\).*/\1 \2/p' \
    | grep . || echo "none none"
}

# lab_expect_exit PID WHAT: the process ended with status 0.
lab_expect_exit() {
  wait "$1" && return 0
  status=$?
  [ "$status" != 124 ] || lab_fail "$2 did not finish within its time limit"
  lab_fail "$2 exited with status $status"
}

# lab_same_file ORIGINAL COPY: what a user checks.
lab_same_file() {
  want=$(sha256sum <"$1" | cut -d' ' -f1)
  got=$(sha256sum <"$2" | cut -d' ' -f1)
  [ "$want" = "$got" ] || lab_fail "$2: SHA-256 $got, expected $want ($(stat -c %s "$2") of $(stat -c %s "$1") bytes)"
  lab_log "$2: SHA-256 $got, as sent"
}
