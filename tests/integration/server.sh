# gst-hangout — sourced by the integration scripts: start_server DIR
# starts $HANGOUT_SERVER on a free port and sets server_pid, and url from
# the first line it prints once it listens (through a FIFO in DIR, so the
# read waits for it without polling).
start_server () {
  mkfifo "$1/server.out"
  "$HANGOUT_SERVER" --port 0 > "$1/server.out" &
  server_pid=$!
  exec 3< "$1/server.out"
  read -r url <&3 || { echo "hangout-server printed no URL"; exit 1; }
  echo "server at $url"
}
