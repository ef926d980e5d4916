#!/usr/bin/env bash
# A local Apache Flink 1.19 session cluster from PyPI's wheels (apache-flink and
# apache-flink-libraries, installed once with --no-deps into the cache, apart
# from any venv), configured by deploy/flink/conf/config.yaml: 127.0.0.1 only,
# one TaskManager with 2 slots.
#   bash deploy/flink/cluster.sh start|stop|status|cancel-all
# Env: FLINK_REST_PORT (8081), FLINK_RPC_PORT (6123), FLINK_RUN_DIR (state, logs
# and pid files; default ~/.cache/highway-tagging/flink-run), FLINK_TM_MEMORY
# (2560m), FLINK_TM_NETWORK (1g).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
FLINK_VERSION=1.19.3
cache="${XDG_CACHE_HOME:-$HOME/.cache}/highway-tagging"
target="$cache/flink-$FLINK_VERSION"
export FLINK_HOME="$target/pyflink"
rest_port="${FLINK_REST_PORT:-8081}"
rpc_port="${FLINK_RPC_PORT:-6123}"
run_dir="${FLINK_RUN_DIR:-$cache/flink-run}"
export FLINK_CONF_DIR="$run_dir/conf" FLINK_LOG_DIR="$run_dir/log" FLINK_PID_DIR="$run_dir"

install_flink() {
  if [ -x "$FLINK_HOME/bin/jobmanager.sh" ] && [ -f "$FLINK_HOME/lib/flink-dist-$FLINK_VERSION.jar" ]; then return; fi
  local python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "installing Flink $FLINK_VERSION from PyPI (apache-flink, apache-flink-libraries; once, ~250 MB)" >&2
  local try
  for try in 1 2 3; do
    rm -rf "$target.tmp"
    if "$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
         --target "$target.tmp" "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION" >&2; then
      rm -rf "$target" && mv "$target.tmp" "$target"
      chmod +x "$FLINK_HOME"/bin/*.sh "$FLINK_HOME/bin/flink"
      return
    fi
    sleep $(( try * 5 ))
  done
  echo "cluster.sh: could not install Flink from PyPI" >&2
  exit 1
}

rest() { python3 - "$rest_port" "$1" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=2) as r:
        print(json.dumps(json.load(r)))
except Exception:
    sys.exit(1)
PY
}

ready() {  # a TaskManager has registered its slots
  rest /overview 2>/dev/null | python3 -c 'import json,sys; o=json.load(sys.stdin); sys.exit(0 if o["slots-total"] > 0 else 1)' 2>/dev/null
}

start() {
  install_flink
  if ready; then echo "Flink already running at 127.0.0.1:$rest_port" >&2; return; fi
  mkdir -p "$FLINK_CONF_DIR" "$FLINK_LOG_DIR"
  cp "$FLINK_HOME"/conf/log4j*.properties "$FLINK_CONF_DIR/"
  sed -e "s/@REST_PORT@/$rest_port/" -e "s/@RPC_PORT@/$rpc_port/" \
      -e "s/@JM_MEMORY@/${FLINK_JM_MEMORY:-1g}/" -e "s/@TM_MEMORY@/${FLINK_TM_MEMORY:-2560m}/" \
      -e "s/@TM_NETWORK@/${FLINK_TM_NETWORK:-1g}/" \
      "$here/conf/config.yaml" > "$FLINK_CONF_DIR/config.yaml"
  local out
  for role in jobmanager taskmanager; do
    if ! out=$("$FLINK_HOME/bin/$role.sh" start 2>&1) || grep -q '\[ERROR\]' <<<"$out"; then
      echo "cluster.sh: the $role did not start: $out" >&2
      stop
      exit 1
    fi
  done
  local i
  for i in $(seq 1 120); do
    if ready; then echo "Flink $FLINK_VERSION running: http://127.0.0.1:$rest_port (logs in $FLINK_LOG_DIR)" >&2; return; fi
    sleep 1
  done
  echo "cluster.sh: Flink did not come up in 120 s; see $FLINK_LOG_DIR" >&2
  stop
  exit 1
}

stop() {
  [ -d "$FLINK_HOME" ] || return 0
  "$FLINK_HOME/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
  "$FLINK_HOME/bin/jobmanager.sh" stop-all >/dev/null 2>&1 || true
  local f pid
  for f in "$FLINK_PID_DIR"/flink-*.pid; do  # whatever the scripts did not stop
    [ -f "$f" ] || continue
    for pid in $(cat "$f"); do kill -9 "$pid" 2>/dev/null || true; done
    rm -f "$f"
  done
  echo "Flink stopped" >&2
}

cancel_all() {  # cancel every job that has not ended (e.g. one whose launcher was killed)
  local jid
  for jid in $(rest /jobs/overview 2>/dev/null | python3 -c 'import json,sys
for j in json.load(sys.stdin)["jobs"]:
    if j["state"] not in ("FINISHED", "FAILED", "CANCELED"): print(j["jid"])'); do
    python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$rest_port/jobs/$jid?mode=cancel', method='PATCH'), timeout=5)" \
      && echo "cancelled Flink job $jid" >&2
  done
}

status() {
  if ready; then rest /overview; else echo "Flink is not running at 127.0.0.1:$rest_port" >&2; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  cancel-all) cancel_all ;;
  install) install_flink ;;
  *) echo "usage: $0 start|stop|status|cancel-all|install" >&2; exit 2 ;;
esac
