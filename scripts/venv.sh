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
