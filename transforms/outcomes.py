"""What every tagger's step ends in, whichever tagger it is: a TaggedImage
(counted) or a DeadLetter with its stage and reason; and how an image's bytes
are read.  Shared by transforms.tag (the background tagger) and
transforms.detect (the RunInference tagger)."""

import ast

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from traffic.imaging import UnreadableImage
from traffic.paths import file_path
from traffic.records import DeadLetter, TaggedImage, Vehicle, reason_kind


def read_bytes(image):
    """The bytes of the file an image id names."""
    with FileSystems.open(file_path(image), compression_type="uncompressed") as f:
        return f.read()


def _reason(exc_type, exc_repr):
    """'Type: message' from what with_exception_handling records."""
    message = exc_repr
    prefix = exc_type.__name__ + "("
    if exc_repr.startswith(prefix) and exc_repr.endswith(")"):
        inner = exc_repr[len(prefix):-1]
        try:
            value = ast.literal_eval(inner)
        except (ValueError, SyntaxError):
            value = inner
        if (isinstance(value, tuple) and len(value) >= 2 and isinstance(value[0], int)
                and issubclass(exc_type, OSError)):  # OSError(errno, strerror[, filename])
            value = f"[Errno {value[0]}] {value[1]}"
        message = value if isinstance(value, str) else str(value)
    return f"{exc_type.__name__}: {message}"


def _stage(exc_type, default):
    if issubclass(exc_type, UnreadableImage):
        return "decode"
    if issubclass(exc_type, OSError):
        return "read"
    return default


class ToDeadLetter(beam.DoFn):
    """(element, (exc type, repr, traceback)) from with_exception_handling ->
    DeadLetter with the stage and a one-line reason; counted by stage."""

    def __init__(self, default_stage):
        self.default_stage = default_stage

    def process(self, bad):
        ref, (exc_type, exc_repr, _) = bad
        image = ref.image
        stage = _stage(exc_type, self.default_stage)
        reason = _reason(exc_type, exc_repr)
        Metrics.counter("failed", stage).inc()
        Metrics.counter("failed_by_reason", reason_kind(reason)).inc()
        yield DeadLetter(image=image, stage=stage, error=reason)


def tagged_image(ref, width, height, detections):
    """One image's TaggedImage from a tagger's Detections, counted in the
    images.tagged and vehicles.<type> counters."""
    Metrics.counter("images", "tagged").inc()
    for d in detections:
        Metrics.counter("vehicles", d.type).inc()
    return TaggedImage(ref.image, ref.camera, ref.timestamp, width, height,
                       tuple(Vehicle(ref.image, ref.camera, ref.timestamp, d.type, d.colour,
                                     d.score, d.x0, d.y0, d.x1, d.y1) for d in detections))
