# Shared by the load benchmarks (scripts/bench/workbench, scripts/bench/live): builds a load
# generator from benches/ and the release binary, serves copies of it on a scratch database on
# 127.0.0.1, and cleans up (servers stopped, database dropped) when the script exits.
# Sourced after lib.sh, not run.

# Progress on standard error, so that standard output is only the results (JSON with --json).
note() { say "$@" >&2; }

# Prints the path of the built load generator `benches/$1.rs`. It is built before the release
# binary: `cargo bench` also builds the binary, with the dev-dependencies' features, into the
# same place, so the release build proper comes last and is copied aside.
build_load_generator() {
  note "building the load generator $1"
  cargo_shared bench --features ssr --bench "$1" --no-run --message-format=json \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("executable") and m["target"]["name"] == sys.argv[1]: print(m["executable"])' "$1"
}

# With FLAMEGRAPH=<file.svg> set, the benchmarks also record where the first server spends its
# time and draw it as a flame graph (perf and inferno; see profile_server).
FLAMEGRAPH="${FLAMEGRAPH:-}"
# The profiled build keeps frame pointers, so that perf can walk the stacks; it lives in a
# target directory of its own, so that the flag does not rebuild the shared release build.
PROFILED_TARGET_DIR="${PROFILED_TARGET_DIR:-$HOME/.cache/trading_strategy/profiled-target}"

# Builds the release binary and sets BENCH_BIN to a copy of it under $CARGO_TARGET_DIR/bench.
build_release_server() {
  local built="$CARGO_TARGET_DIR/release/trading_strategy"
  if [ -n "$FLAMEGRAPH" ]; then
    note "building the release binary with frame pointers, for the flame graph"
    CARGO_TARGET_DIR="$PROFILED_TARGET_DIR" RUSTFLAGS="$LEPTOS_RUSTFLAGS -C force-frame-pointers=yes" \
      cargo build --release --features ssr --bin trading_strategy >&2
    built="$PROFILED_TARGET_DIR/release/trading_strategy"
  else
    note "building the release binary (10 minutes or more on two cores when nothing is cached)"
    cargo_shared build --release --features ssr --bin trading_strategy >&2
  fi
  mkdir -p "$CARGO_TARGET_DIR/bench"
  BENCH_BIN="$CARGO_TARGET_DIR/bench/trading_strategy"
  # Renamed into place, so that a copy still running from an earlier run is no obstacle.
  cp "$built" "$BENCH_BIN.new"
  mv -f "$BENCH_BIN.new" "$BENCH_BIN"
}

# Runs the command in "$@" (the load) while perf samples server $1 when FLAMEGRAPH is set, then
# folds the stacks and draws them into $FLAMEGRAPH. Without FLAMEGRAPH it only runs the load.
# This machine's perf has no hardware counters, so the clock is the kernel's cpu-clock.
profile_server() {
  local pid="$1"
  shift
  if [ -z "$FLAMEGRAPH" ]; then
    "$@"
    return
  fi
  command -v perf >/dev/null || apt_install linux-perf
  command -v inferno-flamegraph >/dev/null || cargo_install_quickly inferno --locked
  local data="$CARGO_TARGET_DIR/bench/perf-$pid.data"
  note "recording the server (pid $pid) with perf for $FLAMEGRAPH"
  perf record -e cpu-clock -F 499 -g -p "$pid" -o "$data" 2>"$data.log" &
  local perf_pid=$!
  sleep 1
  local status=0
  "$@" || status=$?
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  note "drawing $FLAMEGRAPH"
  mkdir -p "$(dirname "$FLAMEGRAPH")"
  perf script -i "$data" 2>/dev/null | inferno-collapse-perf | inferno-flamegraph \
    --title "trading_strategy serve under $(basename "$0")" --width 1600 --minwidth 1 >"$FLAMEGRAPH"
  return "$status"
}

BENCH_DB_NAME=""
BENCH_SERVER_PIDS=()
bench_cleanup() {
  for pid in "${BENCH_SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$BENCH_DB_NAME" ]; then
    psql "$POSTGRES_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$BENCH_DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap bench_cleanup EXIT

# Creates and migrates a scratch database; sets BENCH_DB_URL.
migrate_scratch_database() {
  BENCH_DB_NAME="bench_$$_$(date +%s)"
  BENCH_DB_URL="$POSTGRES_SERVER_URL/$BENCH_DB_NAME"
  note "migrating the scratch database $BENCH_DB_NAME"
  DATABASE_URL="$BENCH_DB_URL" APP_ENV=test "$BENCH_BIN" migrate >/dev/null
}

# Serves the release build on 127.0.0.1:$1 with the scratch database, the public URL
# $2 (the origin checks compare with it) and any further VAR=value settings; waits for
# /health and sets BENCH_SERVER_PID. Mail stays queued (no SMTP server is needed);
# RUST_LOG=warn keeps logging off the hot path.
serve_release() {
  local port="$1" public_url="$2"
  shift 2
  local log="$CARGO_TARGET_DIR/bench/server-$port.log"
  note "serving $BENCH_BIN on http://127.0.0.1:$port"
  env DATABASE_URL="$BENCH_DB_URL" APP_ENV=test PORT="$port" PHX_HOST="$public_url" DEV_MAILBOX=true \
    RUST_LOG=warn "$@" "$BENCH_BIN" serve >"$log" 2>&1 &
  BENCH_SERVER_PID=$!
  BENCH_SERVER_PIDS+=("$BENCH_SERVER_PID")
  wait_for_http "http://127.0.0.1:$port/health" 60 || { cat "$log"; exit 1; }
}

resident_memory() {
  grep -E '^(VmRSS|VmHWM)' "/proc/$1/status" | tr -s ' \t' ' ' | paste -sd ';'
}
