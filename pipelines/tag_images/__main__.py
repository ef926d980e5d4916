"""python -m pipelines.tag_images"""

import logging
import os
import sys

from pipelines.tag_images.launch import main


def _stop_beam_servers():
    """Stop the servers Beam started for this run as subprocesses (the Flink
    job server, a Prism binary, expansion services).  Beam stops them at
    interpreter exit; ``os._exit`` skips that, which would leave a Java job
    server running with nothing to serve.  (Beam keeps them in one shared
    cache, whose owners are released here as each would be at exit.)"""
    try:
        from apache_beam.utils.subprocess_server import SubprocessServer
        cache = SubprocessServer._cache
        for owner in list(cache._live_owners):
            cache.purge(owner)
    except Exception:  # noqa: BLE001 - best effort on the way out of a failed run
        logging.exception("could not stop Beam's subprocess servers")


class _QuietBeamNoise(logging.Filter):
    """Beam logs this on every RunInference batch when torch is not installed
    (its model manager imports torch); it says nothing about this job."""

    def filter(self, record):
        return "memory usage cannot be fetched" not in record.getMessage()


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers or [logging.lastResort]:
        handler.addFilter(_QuietBeamNoise())
    status = main()
    if status:
        # a failed run can leave the runner's threads behind, waiting for
        # workers that are gone: they must not keep the process alive
        _stop_beam_servers()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
