# Shared by the fault scripts: builds the wenji binary and picks a free port.
# WENJI_FAULT_DEBUG=1 uses the debug build in the worktree's own target/ (CI, where it is built anyway);
# otherwise the release build in CARGO_TARGET_DIR (default target).
build_wenji() {
  if [ "${WENJI_FAULT_DEBUG:-0}" = 1 ]; then
    echo "== building the debug binary"
    cargo build --quiet --bin wenji
    bin="${CARGO_TARGET_DIR:-target}/debug/wenji"
  else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
    echo "== building the release binary in $CARGO_TARGET_DIR"
    cargo build --release --quiet --bin wenji
    bin="$CARGO_TARGET_DIR/release/wenji"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits for $1/healthz; prints the server log and fails when it does not come up.
wait_healthy() {
  for _ in $(seq 300); do curl -sf -o /dev/null "$1/healthz" && return 0; sleep 0.05; done
  echo "the server at $1 did not start; its log:" >&2
  tail -20 "$2" >&2
  return 1
}

# Starts `wenji serve` on a free port with the caller's environment (prefix assignments included), its log
# in $tmp/server.log; sets $port, $url and $server, and waits until it answers.
serve_in_background() {
  port=$(free_port)
  url="http://127.0.0.1:$port"
  "$bin" serve --bind "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
  server=$!
  wait_healthy "$url" "$tmp/server.log"
}

# Stops the crash client ($client, writing to $tmp/stop's folder) after a last second of load; sets
# client_rc to its exit status.
stop_client() {
  sleep 1
  touch "$tmp/stop"
  client_rc=0
  wait "$client" || client_rc=$?
  client=""
}
