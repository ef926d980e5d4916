"""python -m pipelines.tag_images"""

import logging
import os
import sys

from pipelines.tag_images.launch import main


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
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
