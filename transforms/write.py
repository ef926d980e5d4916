"""Write: every output through Beam's sinks; summary.json last, atomically.

The summary step takes the other sinks' results as side inputs, so it runs
only when they have all finished, and it writes to a temporary name and
renames, so a failed or interrupted run never leaves a summary.json that
looks complete.
"""

import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import WriteToParquet
from apache_beam.io.textio import WriteToText

from traffic import records
from traffic.summary import build_summary, dumps

OUTPUT_FOLDERS = ("vehicles", "images", "windows", "cameras", "dead_letter")
SUMMARY = "summary.json"
PART = "part"  # shard prefix: DIR/<table>/part-00000-of-00002.parquet


def join_path(*parts):
    return FileSystems.join(*parts)


def write_atomically(path, text):
    """Write ``path`` whole or not at all: a failed write (a full disk)
    leaves neither it nor its temporary file."""
    tmp = path + ".tmp"
    try:
        with FileSystems.create(tmp) as f:
            f.write(text.encode("utf-8"))
    except BaseException:
        try:
            FileSystems.delete([tmp])
        except Exception:  # noqa: BLE001 - the write's error is the one to report
            pass
        raise
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


class _WriteSummary(beam.DoFn):
    def __init__(self, path, settings):
        self.path = path
        self.settings = settings

    def process(self, _, image_counts, overall, per_camera, windows, *sinks_done):
        summary = build_summary(image_counts, overall, per_camera, windows, self.settings)
        write_atomically(self.path, dumps(summary))
        yield self.path


class WriteOutputs(beam.PTransform):
    """Parquet tables (vehicles, images, windows, cameras), dead letters as
    JSON lines, then summary.json."""

    def __init__(self, output, settings=None):
        super().__init__()
        self.output = output
        self.settings = settings

    def _parquet(self, pcoll, name, to_rows, schema):
        return (pcoll
                | f"{name.title()}Rows" >> beam.FlatMap(to_rows)
                | f"Write{name.title()}" >> WriteToParquet(
                    join_path(self.output, name, PART), schema,
                    file_name_suffix=".parquet", codec="snappy"))

    def expand(self, outputs):
        vehicles = outputs["tagged"] | "Vehicles" >> beam.FlatMap(lambda t: t.vehicles)
        written = [
            self._parquet(vehicles, "vehicles", lambda v: [records.vehicle_row(v)],
                          records.VEHICLES_SCHEMA),
            self._parquet(outputs["statuses"], "images", lambda s: [records.image_row(s)],
                          records.IMAGES_SCHEMA),
            self._parquet(outputs["windows"], "windows", records.window_rows,
                          records.WINDOWS_SCHEMA),
            self._parquet(outputs["cameras"], "cameras", lambda c: [records.camera_row(c)],
                          records.CAMERAS_SCHEMA),
            outputs["dead"]
            | "DeadLetterJson" >> beam.Map(lambda d: json.dumps(d._asdict()))
            | "WriteDeadLetter" >> WriteToText(
                join_path(self.output, "dead_letter", PART), file_name_suffix=".jsonl"),
        ]
        return (outputs["tagged"].pipeline
                | "SummaryTrigger" >> beam.Create([None])
                | "WriteSummary" >> beam.ParDo(
                    _WriteSummary(join_path(self.output, SUMMARY), self.settings),
                    beam.pvalue.AsSingleton(outputs["image_counts"]),
                    beam.pvalue.AsSingleton(outputs["overall"]),
                    beam.pvalue.AsDict(outputs["per_camera"]),
                    beam.pvalue.AsList(outputs["windows"]),
                    *[beam.pvalue.AsList(w) for w in written]))
