"""Runners this machine builds itself: where the local builds of Prism and of
the Flink job server live, and how the job is pointed at them."""

import json
import os
import urllib.request

import apache_beam as beam
from apache_beam.options.pipeline_options import (FlinkRunnerOptions, PrismRunnerOptions,
                                                  StandardOptions)

from pipelines.tag_images.cli import UsageError


def _cache(*parts):
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "highway-tagging", *parts)


def prism_binary():
    """Where scripts/venv.sh (ensure_prism) builds Beam's Prism runner for the
    installed Beam version."""
    return _cache(f"prism-v{beam.__version__}", "prism")


FLINK_VERSION = "1.19"  # the Flink minor the job server in deploy/flink is built for


def flink_job_server_jar():
    """Where deploy/flink/job-server/build.sh builds Beam's Flink job server."""
    return _cache("flink-job-server",
                  f"beam-runners-flink-{FLINK_VERSION}-job-server-{beam.__version__}.jar")


def use_local_flink_job_server(options, argv):
    """--runner FlinkRunner: use the job server built by
    deploy/flink/job-server/build.sh (Beam would download one that Maven
    Central does not serve), for Flink 1.19, and stop before submitting when
    --flink_master does not answer (Beam would wait for it for ever)."""
    if options.view_as(StandardOptions).runner not in ("FlinkRunner", "flink"):
        return
    flink = options.view_as(FlinkRunnerOptions)
    if flink.flink_job_server_jar is None and flink.flink_submit_uber_jar is False:
        path = flink_job_server_jar()
        if not os.path.isfile(path):
            raise UsageError("--runner FlinkRunner needs Beam's Flink job server: build it with "
                             "'bash deploy/flink/job-server/build.sh' (or give --flink_job_server_jar)")
        flink.flink_job_server_jar = path
    if not any(a.startswith("--flink_version") for a in argv):
        flink.flink_version = FLINK_VERSION
    master = flink.flink_master
    if master and master not in ("[auto]", "[local]"):
        url = (master if "://" in master else "http://" + master).rstrip("/") + "/overview"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                json.load(response)
        except (OSError, ValueError) as e:
            raise UsageError(f"--flink_master {master} does not answer ({url}: "
                             f"{getattr(e, 'reason', e)}); start a cluster with "
                             "'bash deploy/flink/cluster.sh start'") from None


def use_local_prism(options):
    """--runner PrismRunner without --prism_location would make Beam download
    a binary from a release page at run time: point it at the local build
    instead, or stop with one line saying how to build it."""
    if options.view_as(StandardOptions).runner not in ("PrismRunner", "prism"):
        return
    prism = options.view_as(PrismRunnerOptions)
    if prism.prism_location:
        return
    path = prism_binary()
    if not os.path.isfile(path):
        raise UsageError("--runner PrismRunner needs a Prism binary: build it with "
                         "'bash scripts/build_prism.sh' (or give --prism_location)")
    prism.prism_location = path


LOCAL_RUNNERS = {None, "DirectRunner", "FnApiRunner", "SwitchingDirectRunner",
                 "BundleBasedDirectRunner"}
