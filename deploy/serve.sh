#!/usr/bin/env bash
# Serve the app to a class: K `streamlit run app.py` processes behind HAProxy, one command.
#
#   bash deploy/serve.sh --processes 2 --port 8080 [--database postgresql://user:pass@host/db]
#
# Students open http://THIS-MACHINE:8080. Each app process listens on loopback only
# (ports 8601, 8602, ...); HAProxy spreads new sessions over them, keeps each session on its
# process with a cookie, gzips Streamlit's JavaScript and health-checks every process. A
# process that dies is started again. Ctrl-C (or SIGTERM) stops everything. docs/deploy.md
# explains the choices and how to spread the processes over several machines. Classes are
# stored in data/classroom.sqlite3, or in the database --database names (CLASS_DB_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

processes=2
port=8080
bind=0.0.0.0
first_app_port=8601
max_connections_per_client=1000
database=""

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  echo "Options: --processes K (default 2)  --port P (8080)  --bind ADDRESS (0.0.0.0)"
  echo "         --first-app-port N (8601)  --max-connections-per-client N (1000)"
  echo "         --database URL (the classroom's store: postgresql://... or sqlite:///PATH;"
  echo "           default: \$CLASS_DB_URL if set, else SQLite in data/classroom.sqlite3)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --processes) processes=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --first-app-port) first_app_port=$2; shift 2 ;;
    --max-connections-per-client) max_connections_per_client=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "serve.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for value in "$processes" "$port" "$first_app_port" "$max_connections_per_client"; do
  case "$value" in
    ''|*[!0-9]*) echo "serve.sh: '$value' is not a whole number" >&2; exit 2 ;;
  esac
done
if [ "$processes" -lt 1 ]; then echo "serve.sh: --processes must be at least 1" >&2; exit 2; fi
case "$database" in
  ''|postgresql://*|postgres://*|sqlite:///*) ;;
  *) echo "serve.sh: --database must start with postgresql://, postgres:// or sqlite:///" >&2
     exit 2 ;;
esac
# Every app process reads the classroom's database from CLASS_DB_URL (classroom.open_store);
# exported, so each process started below, and each restart, gets the same one.
if [ -n "$database" ]; then export CLASS_DB_URL="$database"; fi
if ! command -v haproxy >/dev/null; then
  echo "serve.sh: HAProxy is not installed; install it with: sudo apt-get install haproxy" >&2
  exit 1
fi

workdir=$(mktemp -d)
config="$workdir/haproxy.cfg"
sed -e "s/\${BIND_ADDRESS}/$bind/" -e "s/\${PORT}/$port/" \
    -e "s/\${MAX_CONNECTIONS_PER_CLIENT}/$max_connections_per_client/" deploy/haproxy.cfg > "$config"
for ((i = 0; i < processes; i++)); do
  echo "    server app$i 127.0.0.1:$((first_app_port + i)) cookie app$i" >> "$config"
done
haproxy -c -q -f "$config" || { haproxy -c -f "$config" >&2; exit 1; }

stopping=0
pids=()

# Run one app process, and start it again whenever it exits, until serve.sh stops.
supervise() {
  local app_port=$1 child=""
  trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi; exit 0' TERM INT
  while true; do
    python3 -m streamlit run app.py --server.address 127.0.0.1 --server.port "$app_port" \
      --server.headless true --browser.gatherUsageStats false --server.fileWatcherType none &
    child=$!
    wait "$child" || true
    echo "serve.sh: the app process on port $app_port exited; starting it again" >&2
    sleep 1
  done
}

stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  echo "serve.sh: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for ((i = 0; i < processes; i++)); do
  supervise $((first_app_port + i)) &
  pids+=("$!")
done
haproxy -db -f "$config" &
pids+=("$!")
echo "serve.sh: $processes app process(es) behind HAProxy on http://$bind:$port" >&2
wait "${pids[-1]}"
