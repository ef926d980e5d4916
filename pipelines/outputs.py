"""Reading a run's outputs back (for evaluation, reports and tests)."""

import glob
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from traffic import records
from transforms.write import PART, SUMMARY, join_path

SCHEMAS = {"vehicles": records.VEHICLES_SCHEMA, "images": records.IMAGES_SCHEMA,
           "windows": records.WINDOWS_SCHEMA, "cameras": records.CAMERAS_SCHEMA}


def read_table(output, name):
    """One of the run's Parquet tables as a pandas DataFrame (only the job's
    own part-* shards are read)."""
    paths = sorted(glob.glob(os.path.join(output, name, f"{PART}*.parquet")))
    if not paths:
        return SCHEMAS[name].empty_table().to_pandas()
    return pa.concat_tables([pq.read_table(p, schema=SCHEMAS[name]) for p in paths]).to_pandas()


def read_summary(output):
    """summary.json of a run (on any Beam filesystem)."""
    with FileSystems.open(join_path(output, SUMMARY)) as f:
        return json.loads(f.read().decode("utf-8"))


def read_dead_letters(output):
    rows = []
    for path in sorted(glob.glob(os.path.join(output, "dead_letter", f"{PART}*.jsonl"))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows
