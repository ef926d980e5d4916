"""The detector tagger: an ONNX YOLO model through Beam's RunInference.

Decode (letterboxed to the model's input) -> RunInference with a
KeyedModelHandler, so each image's id and decoded pixels travel with its
prediction -> post-process (NMS, masks, colour) -> TaggedImage.  RunInference
loads the model once per worker process and shares it between threads, and
batches images; all three steps run fused, so pixels never leave the worker.
"""

import dataclasses
import pickle
import typing

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import (KeyedModelHandler, ModelHandler,
                                           PredictionResult, RunInference)

from traffic import detector
from traffic.imaging import DEFAULT_MAX_PIXELS, decode_image
from traffic.records import Detection, ImageRef
from transforms.progress import CountsProgress
from transforms.outcomes import ToDeadLetter, read_bytes, tagged_image


def read_model_file(path):
    """The bytes of a model file on any Beam filesystem (gs://, s3://, ...):
    on a cluster, --model must name a path every worker can read."""
    with FileSystems.open(path) as f:
        return f.read()


@dataclasses.dataclass(frozen=True)
class DetectorInput:
    """What travels with an image through inference (the key)."""
    ref: ImageRef
    width: int  # full size
    height: int
    scale: float  # full-size pixels per pixel of ``pixels``
    pixels: typing.Any  # decoded RGB, used for colours
    letterbox: detector.Letterboxed


class DetectorInputCoder(beam.coders.Coder):
    """Coder of DetectorInput (an image's decoded pixels and letterbox).
    Decode, RunInference and post-processing are fused, so it should never
    encode anything; Beam only samples elements to estimate sizes, which this
    answers from the arrays' sizes instead of pickling megabytes."""

    def encode(self, value):
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, data):
        return pickle.loads(data)

    def estimate_size(self, value):
        return value.pixels.nbytes + value.letterbox.tensor.nbytes + 256

    def is_deterministic(self):
        return False


beam.coders.registry.register_coder(DetectorInput, DetectorInputCoder)


class YoloOnnxHandler(ModelHandler):
    """ModelHandler for Ultralytics-format YOLO ONNX models on onnxruntime.

    Examples are letterboxed float32 tensors (3 x H x W); predictions are
    (output0, mask prototypes or None) per example.  Models with a fixed batch
    size of 1 (most exports) are run image by image within a batch; models
    with a dynamic batch dimension get the whole batch at once.
    """

    def __init__(self, model, spec, batch_size=8, threads=0):
        super().__init__()
        self.model = model
        self.spec = spec
        self.batch_size = batch_size
        self.threads = threads

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": self.batch_size}

    def load_model(self):
        session, spec = detector.open_model(self.model, threads=self.threads,
                                            read=read_model_file)
        return session

    def run_inference(self, batch, model, inference_args=None):
        name = self.spec.input_name
        if self.spec.batch is None:
            outputs = model.run(None, {name: np.stack(batch)})
            rows = [(outputs[0][i], outputs[1][i] if len(outputs) > 1 else None)
                    for i in range(len(batch))]
        else:
            rows = []
            for example in batch:
                outputs = model.run(None, {name: example[None]})
                rows.append((outputs[0][0], outputs[1][0] if len(outputs) > 1 else None))
        return [PredictionResult(example, row) for example, row in zip(batch, rows)]

    def get_num_bytes(self, batch):
        return sum(e.nbytes for e in batch)

    def get_metrics_namespace(self):
        return "detector"


@beam.typehints.with_output_types(typing.Tuple[DetectorInput, np.ndarray])
class DecodeForDetector(CountsProgress, beam.DoFn):
    """ImageRef -> (DetectorInput, letterboxed tensor)."""

    def __init__(self, size, max_pixels=DEFAULT_MAX_PIXELS, progress_dir=None):
        self.size = size
        self.max_pixels = max_pixels
        self.progress_dir = progress_dir
        self.decoded = Metrics.counter("images", "decoded")

    def process(self, ref):
        self.count_progress()
        d = decode_image(read_bytes(ref.image), max_pixels=self.max_pixels, fit=self.size)
        self.decoded.inc()
        lb = detector.letterbox(d.pixels, self.size)
        key = DetectorInput(ref=ref._replace(timestamp=ref.timestamp or d.taken_at),
                            width=d.width, height=d.height, scale=d.scale,
                            pixels=d.pixels, letterbox=lb)
        yield key, lb.tensor


class DetectionsToTags(beam.DoFn):
    """(DetectorInput, PredictionResult) -> TaggedImage."""

    def __init__(self, spec, min_score, nms_iou):
        self.spec, self.min_score, self.nms_iou = spec, min_score, nms_iou
        self.dropped = Metrics.counter("detector", "non_vehicle_detections")

    def process(self, element):
        key, prediction = element
        output0, protos = prediction.inference
        raw, dropped = detector.postprocess(output0, protos, key.letterbox, self.spec,
                                            self.min_score, self.nms_iou)
        self.dropped.inc(dropped)
        s = key.scale
        found = []
        for r in raw:
            colour = detector.detection_colour(key.pixels, r)
            x0, y0, x1, y1 = (int(round(v * s)) for v in r.box)
            found.append(Detection(r.type, colour, round(r.score, 4),
                                min(x0, key.width), min(y0, key.height),
                                min(x1, key.width), min(y1, key.height)))
        yield tagged_image(key.ref, key.width, key.height, found)


def _failed_batch(bad):
    """A batch that failed inference -> one (ref, error) per image in it."""
    batch, error = bad
    for key, _ in batch:
        yield key.ref, error


class DetectVehicles(beam.PTransform):
    """ImageRefs -> (TaggedImage records, DeadLetter records), with an ONNX
    YOLO model: Decode -> RunInference -> PostProcess, each step with Beam's
    exception handling."""

    def __init__(self, model, spec, min_score=detector.DEFAULT_MIN_SCORE,
                 nms_iou=detector.DEFAULT_NMS_IOU, batch_size=8, threads=0,
                 max_pixels=DEFAULT_MAX_PIXELS, progress_dir=None):
        super().__init__()
        self.model, self.spec = model, spec
        self.min_score, self.nms_iou = min_score, nms_iou
        self.batch_size, self.threads, self.max_pixels = batch_size, threads, max_pixels
        self.progress_dir = progress_dir

    def expand(self, refs):
        inputs, bad_decode = (
            refs | "Decode" >> beam.ParDo(
                DecodeForDetector(self.spec.size, self.max_pixels, self.progress_dir))
            .with_exception_handling())
        handler = KeyedModelHandler(YoloOnnxHandler(self.model, self.spec, self.batch_size,
                                                    self.threads))
        predictions, failed = (inputs | "RunInference" >> RunInference(handler)
                               .with_exception_handling())
        tagged, bad_post = (
            predictions | "PostProcess" >> beam.ParDo(
                DetectionsToTags(self.spec, self.min_score, self.nms_iou))
            .with_exception_handling())
        bad_inference = failed.failed_inferences | "PerImage" >> beam.FlatMap(_failed_batch)
        dead = (
            (bad_decode | "DecodeFailures" >> beam.ParDo(ToDeadLetter("decode")),
             bad_inference | "InferenceFailures" >> beam.ParDo(ToDeadLetter("tag")),
             bad_post | "KeyOf" >> beam.Map(lambda b: (b[0][0].ref, b[1]))
             | "PostProcessFailures" >> beam.ParDo(ToDeadLetter("tag")))
            | "AllFailures" >> beam.Flatten())
        return tagged, dead
