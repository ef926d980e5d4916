"""The job: tag every vehicle in a collection of highway images.

    python -m pipelines.tag_images --input 'data/sample/images/**/*.jpg' \
        --manifest data/sample/manifest.csv --output output [Beam options]

Bad command-line input stops the job before it starts, with one line on
stderr and exit status 2.
"""

from pipelines.tag_images.launch import main
from pipelines.tag_images.output_folder import LOCK, lock_output
from pipelines.tag_images.runners import flink_job_server_jar

__all__ = ["LOCK", "flink_job_server_jar", "lock_output", "main"]
