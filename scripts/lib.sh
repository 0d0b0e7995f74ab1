# Shared by scripts/run-app and scripts/test-all: installs what is missing (idempotently,
# each step skipped when the right version is already there) and finds or starts Postgres.
# Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_LEPTOS_VERSION=0.3.11
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
# One target directory outside the clone, so a fresh clone (CI) reuses earlier builds;
# cargo's fingerprints still rebuild whatever changed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trading_strategy/target}"
# The queries are checked against the committed .sqlx data, never against a live database.
export SQLX_OFFLINE=true
# cargo-leptos builds with these; plain cargo commands use the same so they share artefacts
# instead of rebuilding everything (see TOOLCHAIN.md).
export LEPTOS_OUTPUT_NAME=trading_strategy
LEPTOS_RUSTFLAGS="--cfg erase_components"

# Each step says when it starts, in seconds since the command started (bash's SECONDS), so a
# run's log shows where its time went.
say() { printf '\033[1m==> %s\033[0m (%ss)\n' "$*" "$SECONDS"; }

# Plain cargo with the flags cargo-leptos uses, so builds are shared.
cargo_shared() { RUSTFLAGS="$LEPTOS_RUSTFLAGS" cargo "$@"; }
# cargo-leptos adds its RUSTFLAGS itself; set them twice and everything rebuilds. The code
# editor's bundle (CodeMirror, from npm, built by esbuild) goes into public/ first, so that
# cargo-leptos copies it into the site with the other assets.
cargo_leptos() {
  editor/build
  # Every build splits the WASM (`--split`): each island is its own lazily loaded file, so a
  # page loads only the code of the islands it has (Cargo.toml, `islands`).
  case "${1:-}" in
    build|serve|watch|end-to-end) env -u RUSTFLAGS cargo leptos "$1" --split "${@:2}" ;;
    *) env -u RUSTFLAGS cargo leptos "$@" ;;
  esac
}

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# The build tools orchestrate builds; their own speed barely matters. Their crates' release
# profiles ask for fat LTO and one codegen unit, which dominate the install on two cores, so
# the install relaxes both (config overrides the installed crate's manifest profile).
cargo_install_quickly() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install "$@"
}

install_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (a few minutes, once per machine)"
    cargo_install_quickly cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --ignore-rust-version \
      --features no_downloads
  fi
  local bindgen
  bindgen="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$"; then
    say "installing wasm-bindgen-cli $bindgen (it must match Cargo.lock)"
    cargo_install_quickly wasm-bindgen-cli --version "$bindgen" --force
  fi
  if [ ! -f end2end/node_modules/.package-lock.json ] \
    || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the npm tools (playwright-core, binaryen)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's Chromium"
    apt_install chromium
  fi
}

postgres_answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Sets POSTGRES_SERVER_URL (no database name): DATABASE_URL's server when set, else the local
# server on 127.0.0.1:5432, else a cluster of the project's own under .pgdata.
find_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    POSTGRES_SERVER_URL="${DATABASE_URL%/*}"
    return
  fi
  if postgres_answers 127.0.0.1 5432; then
    POSTGRES_SERVER_URL="postgres://postgres@127.0.0.1:5432"
    return
  fi
  local port=5439
  if ! postgres_answers 127.0.0.1 "$port"; then
    start_own_postgres "$port"
  fi
  POSTGRES_SERVER_URL="postgres://postgres@127.0.0.1:$port"
}

start_own_postgres() {
  local port="$1" bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$bin" ]; then
    say "installing Debian's PostgreSQL"
    apt_install postgresql
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  local data="$ROOT/.pgdata"
  local as_postgres=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root; the postgres user must also be able to reach the folder
    # (a clone under /root is closed to it), else the cluster lives under /var/lib.
    as_postgres=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$ROOT"; then
      data=/var/lib/trading_strategy/pgdata
    fi
    mkdir -p "$data"
    chown postgres "$data"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a Postgres cluster of the project's own in .pgdata"
    "${as_postgres[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  say "starting Postgres on 127.0.0.1:$port"
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
}

# A port nobody listens on now, so parallel runs on one machine do not collide.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits for `url` to answer 200, for at most `seconds`.
wait_for_http() {
  local url="$1" seconds="$2"
  for _ in $(seq 1 $((seconds * 4))); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  echo "no answer from $url after ${seconds}s" >&2
  return 1
}

# The SMTP sink (MailDev, pinned in end2end/package.json) that the tests send account mail to
# and read it back from (its web API on SMTP_SINK_WEB_PORT). Idempotent: a sink that already
# answers is reused; one started here is stopped by stop_smtp_sink. It speaks plain SMTP, so
# the apps that use it run with SMTP_STARTTLS=false (refused in production).
export SMTP_SINK_SMTP_PORT="${SMTP_SINK_SMTP_PORT:-1025}"
export SMTP_SINK_WEB_PORT="${SMTP_SINK_WEB_PORT:-1080}"
SMTP_SINK_PID=""
start_smtp_sink() {
  if curl -fsS -o /dev/null "http://127.0.0.1:$SMTP_SINK_WEB_PORT/email" 2>/dev/null; then
    return 0
  fi
  say "starting the SMTP sink (MailDev) on 127.0.0.1:$SMTP_SINK_SMTP_PORT (web $SMTP_SINK_WEB_PORT)"
  mkdir -p "$CARGO_TARGET_DIR"
  maildev --smtp "$SMTP_SINK_SMTP_PORT" --web "$SMTP_SINK_WEB_PORT" --ip 127.0.0.1 --web-ip 127.0.0.1 \
    --silent >"$CARGO_TARGET_DIR/maildev.log" 2>&1 &
  SMTP_SINK_PID=$!
  wait_for_http "http://127.0.0.1:$SMTP_SINK_WEB_PORT/email" 30 || { cat "$CARGO_TARGET_DIR/maildev.log"; return 1; }
}
stop_smtp_sink() {
  if [ -n "$SMTP_SINK_PID" ]; then
    kill "$SMTP_SINK_PID" 2>/dev/null || true
    wait "$SMTP_SINK_PID" 2>/dev/null || true
    SMTP_SINK_PID=""
  fi
}
