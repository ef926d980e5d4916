"""Read: which images there are (file match) and which were expected (manifest)."""

import csv
import datetime as dt
import io
import json
import os
import posixpath

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from traffic.imaging import EARLIEST_TIME, LATEST_TIME, usable_time
from traffic.paths import has_scheme, image_id
from traffic.records import ImageRef

MANIFEST_COLUMNS = ("path", "camera", "timestamp")


def normalise_uri(path, base=None):
    """The key an image is known by: an absolute, normalised path or URI, as
    an ``image_id``.

    Relative paths are taken relative to ``base`` (the manifest's folder).
    """
    path = path.strip()
    if has_scheme(path):
        scheme, rest = path.split("://", 1)
        return image_id(f"{scheme}://{posixpath.normpath(rest)}")
    if base is not None and not os.path.isabs(path):
        if has_scheme(base):
            return normalise_uri(base.rstrip("/") + "/" + path)
        path = os.path.join(base, path)
    return image_id(os.path.abspath(path))


def camera_from_path(image):
    """The camera of an image with no manifest entry: its folder's name."""
    parent = image.rstrip("/").rsplit("/", 2)
    return parent[-2] if len(parent) >= 2 and parent[-2] else "unknown"


def normalise_timestamp(value):
    """ISO-8601 in UTC without offset (naive input is taken as UTC), or None.
    Raises ValueError for text that is not a time, or a time outside
    1900..2999 (a camera's clock gone wrong; it would not fit a window)."""
    if value is None or str(value).strip() == "":
        return None
    t = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if not usable_time(t):
        raise ValueError(f"timestamp {value!r} is outside {EARLIEST_TIME.year}..{LATEST_TIME.year}")
    return t.replace(microsecond=0).isoformat()


def manifest_format(path):
    return "jsonl" if path.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"


def manifest_columns(path):
    """The column names of a manifest (read from its header / first record)."""
    with FileSystems.open(path) as f:
        text = io.TextIOWrapper(f, encoding="utf-8-sig")
        if manifest_format(path) == "csv":
            return next(csv.reader(text), [])
        first = text.readline()
        return list(json.loads(first)) if first.strip() else []


def _jsonl_rows(text):
    for line in text:
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            yield row if isinstance(row, dict) else None


def read_manifest(path):
    """ImageRefs of a CSV or JSONL manifest with a ``path`` column (and
    optional ``camera`` and ``timestamp``), paths relative to its folder.
    A row that cannot be read (broken JSON, no path) is skipped and counted
    (``manifest.bad_rows``); a timestamp that is not a usable time is taken
    as absent and counted (``manifest.bad_timestamps``): one bad row never
    stops a run."""
    bad_rows = Metrics.counter("manifest", "bad_rows")
    bad_times = Metrics.counter("manifest", "bad_timestamps")
    base = path.rsplit("/", 1)[0] if "/" in path else "."
    with FileSystems.open(path) as f:
        text = io.TextIOWrapper(f, encoding="utf-8-sig")
        rows = (csv.DictReader(text) if manifest_format(path) == "csv" else _jsonl_rows(text))
        for row in rows:
            if not row or not isinstance(row.get("path"), str) or not row["path"].strip():
                bad_rows.inc()
                continue
            image = normalise_uri(row["path"], base)
            try:
                timestamp = normalise_timestamp(row.get("timestamp"))
            except (ValueError, TypeError):
                bad_times.inc()
                timestamp = None
            camera = row.get("camera")
            yield ImageRef(image=image,
                           camera=(camera.strip() if isinstance(camera, str) else "")
                           or camera_from_path(image),
                           timestamp=timestamp)


class MatchImages(beam.PTransform):
    """Read: the images matching file patterns on any Beam filesystem, as
    (image URI, size in bytes), one per match (a file that several patterns
    match comes once per pattern; the catalogue counts it once).  Files under
    ``skip_under`` (the job's own output folder, when it lies inside the
    input tree) are not images of the run."""

    def __init__(self, patterns, skip_under=None):
        super().__init__()
        self.patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        self.skip = normalise_uri(skip_under).rstrip("/") + "/" if skip_under else None
        self.found = Metrics.counter("images", "found")
        self.skipped = Metrics.counter("images", "skipped_in_output")

    def expand(self, pbegin):
        found, skipped, skip = self.found, self.skipped, self.skip

        def key(metadata):
            image = normalise_uri(metadata.path)
            if skip and image.startswith(skip):
                skipped.inc()
                return
            found.inc()
            yield image, metadata.size_in_bytes

        return (pbegin
                | "Patterns" >> beam.Create(self.patterns)
                | "MatchFiles" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "KeyByImage" >> beam.FlatMap(key))


class ReadManifest(beam.PTransform):
    """Read: the images a manifest says the run should have, as ImageRefs."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def expand(self, pbegin):
        return (pbegin
                | "ManifestPath" >> beam.Create([self.path])
                | "ParseRows" >> beam.FlatMap(read_manifest))
