#!/usr/bin/env bash
# Build Beam's Prism runner from the Go module proxy, at the Beam version
# installed in .venv, into ~/.cache/highway-tagging/prism-v<version>/prism.
# (Beam would otherwise download a prebuilt binary from a release page at run
# time.)  Needs Go.  Used by run_tests.sh; run it yourself for --runner PrismRunner.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements.txt
ensure_prism
if [ -z "${PRISM_BINARY:-}" ]; then exit 1; fi
echo "$PRISM_BINARY"
