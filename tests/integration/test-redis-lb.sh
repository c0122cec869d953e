#!/bin/sh
# gst-hangout — three hangout-server --redis behind haproxy, as
# docs/architecture.md ("Rooms across servers") has them, with real
# gst-launch-1.0 processes: five receivers and a sender join one room
# through the load balancer's one address, which spreads them over the
# three servers (round robin); every copy must be byte-identical, and
# every server must have had members of the room.
#
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH. Run inside
# tests/netns-run.sh: the fixed ports are the namespace's own. Every wait
# is bounded: timeout(1) on each process, a deadline on each poll. Skips
# (77) without redis-server or haproxy.
set -eu

LIMIT=${HANGOUT_TEST_TIMEOUT:-60}
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"
command -v redis-server > /dev/null || { echo "SKIP: no redis-server"; exit 77; }
command -v haproxy > /dev/null || { echo "SKIP: no haproxy"; exit 77; }

. "$(dirname "$0")/processes.sh"

# The sanitizers' runtime that the ASan build preloads is for
# gst-launch-1.0, which loads our instrumented plugin. The tools here are
# not ours (curl hangs with it, even on a refused connection): they run
# without it. (Daemons started in the background call env directly, so
# that $! is theirs: a function would run in a subshell of its own.)
plain () { env -u LD_PRELOAD "$@"; }

# poll WHAT CMD...: runs CMD every 50 ms until it succeeds, 10 s at most.
poll () {
  what=$1; shift
  n=0
  until "$@" > /dev/null 2>&1; do
    n=$((n + 1)); [ $n -le 200 ] || { echo "$what: not ready within 10 s"; exit 1; }
    sleep 0.05
  done
}

env -u LD_PRELOAD redis-server --port 0 --unixsocket "$dir/redis.sock" --dir "$dir" \
    --logfile "$dir/redis.log" --save "" --appendonly no &
pids="$pids $!"
poll redis-server test -S "$dir/redis.sock"

for port in 8081 8082 8083; do
  "$HANGOUT_SERVER" --port $port --redis "unix:$dir/redis.sock" \
      2> "$dir/server-$port.err" > /dev/null &
  pids="$pids $!"
done
for port in 8081 8082 8083; do
  poll "server on $port" plain curl -sf --max-time 2 "http://127.0.0.1:$port/healthz"
done

# The architecture's haproxy configuration, without TLS.
cat > "$dir/haproxy.cfg" <<EOF
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend hangout
    bind 127.0.0.1:8080
    default_backend servers
backend servers
    balance roundrobin
    option httpchk GET /healthz
    timeout tunnel 1h
    server a 127.0.0.1:8081 check
    server b 127.0.0.1:8082 check
    server c 127.0.0.1:8083 check
EOF
env -u LD_PRELOAD haproxy -f "$dir/haproxy.cfg" -db > "$dir/haproxy.log" 2>&1 &
pids="$pids $!"
# Up once it answers for a server (round robin: one of each).
for i in 1 2 3; do
  poll haproxy plain curl -sf --max-time 2 http://127.0.0.1:8080/healthz
done

url=ws://127.0.0.1:8080/ws
head -c $((4 * 1024 * 1024)) /dev/urandom > "$dir/in.bin"
receivers=
for i in 1 2 3 4 5; do
  run "recv$i" gst-launch-1.0 -q hangoutsrc room=lb server=$url num-files=1 \
      display-name="receiver-$i" ! filesink location="$dir/out-$i.bin"
  eval "receivers=\"\$receivers \$recv${i}_job\""
done
run send gst-launch-1.0 -q filesrc location="$dir/in.bin" \
    ! hangoutsink room=lb server=$url display-name=sender min-peers=5
reap "$send_job"
[ "$s" = 0 ] || { echo "sender failed ($s):"; cat "$dir/send.err"; exit 1; }
i=0
for job in $receivers; do
  i=$((i + 1))
  reap "$job"
  [ "$s" = 0 ] || { echo "receiver $i failed ($s):"; cat "$dir/recv$i.err"; exit 1; }
  cmp "$dir/in.bin" "$dir/out-$i.bin" || { echo "copy $i differs"; exit 1; }
done
for port in 8081 8082 8083; do
  grep -q "joined room 'lb'" "$dir/server-$port.err" \
    || { echo "no member of the room on the server on $port"; exit 1; }
done
echo "OK: 4 MiB from a sender to 5 receivers over 3 servers behind haproxy, identical"
