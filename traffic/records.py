"""The records that flow through the job, and the Parquet schema of each output.

Only these small records cross a shuffle; decoded pixels never do.
"""

import datetime as dt
import re
import typing

import pyarrow as pa

# Per-image outcomes (ImageStatus.status)
TAGGED, FAILED, MISSING, UNEXPECTED = "tagged", "failed", "missing", "unexpected"


class ImageRef(typing.NamedTuple):
    """An image to process: its normalised URI and what is known before reading it."""
    image: str
    camera: str
    timestamp: str | None  # ISO-8601, from the manifest; else filled from EXIF


class Detection(typing.NamedTuple):
    """A tagger's finding in one image, before it is tied to the image: what
    every tagger returns."""
    type: str
    colour: str
    score: float
    x0: int  # full-size pixels
    y0: int
    x1: int  # exclusive
    y1: int


class Vehicle(typing.NamedTuple):
    image: str
    camera: str
    timestamp: str | None
    type: str
    colour: str
    score: float
    x0: int
    y0: int
    x1: int
    y1: int


class TaggedImage(typing.NamedTuple):
    image: str
    camera: str
    timestamp: str | None
    width: int
    height: int
    vehicles: tuple  # of Vehicle


class DeadLetter(typing.NamedTuple):
    image: str
    stage: str  # read | decode | tag
    error: str


def reason_kind(error):
    """A dead letter's reason without its particulars, for counting:
    'UnreadableImage: truncated or corrupt image data: ...' ->
    'truncated or corrupt image data';
    'PermissionError: [Errno 13] Permission denied' -> 'Permission denied'."""
    kind = re.sub(r"^\[Errno -?\d+\] ", "", error.split(": ", 1)[-1])
    for stop in (":", " (", ","):
        kind = kind.split(stop, 1)[0]
    return kind[:60]


class ImageStatus(typing.NamedTuple):
    image: str
    camera: str | None
    timestamp: str | None
    width: int | None
    height: int | None
    vehicles: int | None
    status: str  # tagged | failed | missing | unexpected (skipped)
    listed: bool  # named in the manifest (True when no manifest is given)
    stage: str | None
    error: str | None
    manifest_rows: int = 0  # rows of the manifest naming this image (duplicates > 1)
    matches: int = 0  # times the --input patterns matched this file (duplicates > 1)


class WindowCount(typing.NamedTuple):
    camera: str
    start: str  # ISO-8601
    end: str
    images: int
    by_type: dict  # type -> vehicles


EPOCH = dt.datetime(1970, 1, 1)


def window_of(timestamp, minutes):
    """The fixed event-time window (start, end), ISO-8601, that an ISO-8601
    time falls in: windows of ``minutes`` aligned to the epoch, as Beam's
    ``FixedWindows`` aligns them."""
    seconds = int(minutes * 60)
    t = int((dt.datetime.fromisoformat(timestamp) - EPOCH).total_seconds())
    start = t - t % seconds
    return ((EPOCH + dt.timedelta(seconds=start)).isoformat(),
            (EPOCH + dt.timedelta(seconds=start + seconds)).isoformat())


class CameraGeometry(typing.NamedTuple):
    """What the job learned about one camera from its own frames, in
    full-size pixels: the road's vanishing point (None when the road's lines
    are parallel in the image), its direction at the image centre, and the
    scale across the road (pixels per metre, square to the road's direction):
    ``scale_k * (v - vanishing_v)**2 / distance to the vanishing point``, or
    ``scale_centre`` everywhere when the lines are parallel."""
    camera: str
    vanishing_u: float | None
    vanishing_v: float | None
    direction_deg: float | None
    scale_k: float | None
    scale_centre: float | None  # pixels per metre at the image centre
    marking_lines: int
    sample_frames: int
    width: int | None
    height: int | None
    focal_px: float | None = None  # learned from the traffic (perspective cameras)
    camera_height_m: float | None = None  # above the road, from focal_px and scale_k
    # road X (metres across the road, the camera above 0) of the lanes'
    # middles, from the markings; empty where none were found or the
    # traffic does not drive in them (then vehicles are looked for anywhere)
    lane_centres_m: tuple = ()
    empty_road_jpeg: bytes | None = None  # the estimated empty road (working size)


def parse_time(value):
    return None if value is None else dt.datetime.fromisoformat(value)


VEHICLES_SCHEMA = pa.schema([
    ("image", pa.string()), ("camera", pa.string()), ("timestamp", pa.timestamp("s")),
    ("type", pa.string()), ("colour", pa.string()), ("score", pa.float64()),
    ("x0", pa.int32()), ("y0", pa.int32()), ("x1", pa.int32()), ("y1", pa.int32()),
])

IMAGES_SCHEMA = pa.schema([
    ("image", pa.string()), ("camera", pa.string()), ("timestamp", pa.timestamp("s")),
    ("width", pa.int32()), ("height", pa.int32()), ("vehicles", pa.int32()),
    ("status", pa.string()), ("listed", pa.bool_()),
    ("stage", pa.string()), ("error", pa.string()), ("manifest_rows", pa.int32()),
    ("matches", pa.int32()),
])

WINDOWS_SCHEMA = pa.schema([
    ("camera", pa.string()), ("window_start", pa.timestamp("s")),
    ("window_end", pa.timestamp("s")), ("type", pa.string()), ("vehicles", pa.int64()),
    ("images", pa.int64()),
])


CAMERAS_SCHEMA = pa.schema([
    ("camera", pa.string()), ("vanishing_u", pa.float64()), ("vanishing_v", pa.float64()),
    ("direction_deg", pa.float64()), ("scale_k", pa.float64()), ("scale_centre", pa.float64()),
    ("marking_lines", pa.int32()), ("sample_frames", pa.int32()),
    ("width", pa.int32()), ("height", pa.int32()), ("focal_px", pa.float64()),
    ("camera_height_m", pa.float64()), ("lane_centres_m", pa.list_(pa.float64())),
    ("empty_road_jpeg", pa.binary()),
])


def vehicle_row(v):
    row = v._asdict()
    row["timestamp"] = parse_time(v.timestamp)
    return row


def image_row(s):
    row = s._asdict()
    row["timestamp"] = parse_time(s.timestamp)
    return row


def window_rows(w):
    start, end = parse_time(w.start), parse_time(w.end)
    return [{"camera": w.camera, "window_start": start, "window_end": end,
             "type": t, "vehicles": n, "images": w.images} for t, n in w.by_type.items()]


def camera_row(c):
    return c._asdict()


def camera_from_row(row):
    """The CameraGeometry of a row of ``DIR/cameras/`` (``camera_row``'s
    inverse): what an earlier run learned about a camera."""
    fields = {k: row.get(k) for k in CameraGeometry._fields}
    fields["lane_centres_m"] = tuple(fields["lane_centres_m"] or ())
    return CameraGeometry(**fields)
