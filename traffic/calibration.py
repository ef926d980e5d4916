"""What the job learns about each camera from its own frames: the
CameraGeometry record (``traffic.records``) the tagger gets as a side input
and the run writes to ``DIR/cameras/``.

The empty road's markings (``traffic.markings``) give the road's direction
and its scale up to a whole ratio; the traffic of the camera's own sample
frames settles it (cars are most of it, and their size is a physical
constant): ``camera_model.learn_camera`` for a camera that looks along the
road (with its focal length and height, and ``lanes.learn_lanes`` the lanes
it drives in), ``topdown_scale`` for one straight above it.
"""

import dataclasses
import math

import numpy as np

from traffic import camera_model, lanes
from traffic.background import DEFAULT_PIXELS_PER_METRE
from traffic.imaging import encode_jpeg
from traffic.markings import RoadGeometry, calibrate, is_perspective
from traffic.records import CameraGeometry

# A camera straight above the road: the markings give its scale up to a whole
# ratio (a chain of markings two lanes apart looks evenly spaced too) and to a
# few per cent (edge lines sit inside the lane); the cars, most of the
# traffic, settle the ratio and then the scale itself, by their footprint.
HINT_AGREEMENT = 0.10  # a hint this close to the learned scale is taken as exact
EMPTY_ROAD_QUALITY = 85  # the empty road as written to DIR/cameras/ (JPEG)


def _car_errors(scale, blobs, along_rows):
    """|log| size errors (N,) of blobs [(u, v, width, height)] against a car
    seen from straight above at ``scale`` pixels per metre; the road runs
    along the image rows unless ``along_rows`` is False."""
    length, width = blobs[:, 2], blobs[:, 3]
    if not along_rows:
        length, width = width, length
    car_length, car_width, _ = camera_model.SIZES_M["car"]
    return camera_model.size_errors(length, width, scale * car_length, scale * car_width)


def topdown_scale(geometry, blobs, hint=None):
    """Pixels per metre (working size) of a camera straight above the road,
    from its RoadGeometry (lines parallel; None without markings), the
    isolated blobs of its sample frames [(u, v, width, height)] and an
    optional hint (the user's figure, same units): the whole ratio of the
    markings' scale at which the most blobs look like a car
    (``camera_model.SIZES_M``), refined so that the car-like blobs have a
    car's footprint on average; the hint where it agrees with that within
    ``HINT_AGREEMENT``, or where nothing can be learned.  None when neither
    markings nor hint tell."""
    learned = geometry.scale if geometry is not None and geometry.scale > 0 else None
    blobs = np.asarray(blobs, dtype=np.float64).reshape(-1, 4)
    blobs = blobs[(blobs[:, 2] > 0) & (blobs[:, 3] > 0)]
    if learned is not None and len(blobs):
        along_rows = min(geometry.direction_deg, 180 - geometry.direction_deg) <= 45
        likeness = [camera_model.likeness(_car_errors(learned * r, blobs, along_rows))
                    for r in camera_model.SCALE_RATIOS]
        scale = learned * camera_model.SCALE_RATIOS[int(np.argmax(likeness))]
        cars = blobs[_car_errors(scale, blobs, along_rows) <= camera_model.SIZE_TOLERANCE]
        if len(cars) >= camera_model.MIN_CARS:
            car_length, car_width, _ = camera_model.SIZES_M["car"]
            learned = float(np.exp(np.mean(np.log(cars[:, 2] * cars[:, 3]
                                                  / (car_length * car_width))) / 2))
        else:
            learned = scale
    if hint is not None and (learned is None or abs(math.log(learned / hint))
                             <= math.log1p(HINT_AGREEMENT)):
        return float(hint)
    return learned


def camera_geometry(camera, road, sample_frames, reduce, blobs=(), pixels_per_metre=None):
    """The CameraGeometry record of a camera from its empty road (working
    size, ``reduce`` full-size pixels per working pixel) and the isolated
    vehicle blobs of its sample frames (``perspective.evidence.isolated_blobs``, at
    working size: where the road runs into the picture, the focal length and
    the camera's height are learned from them, and which lanes of those the
    markings bound the traffic drives in; straight above the road, the
    scale, given ``pixels_per_metre`` (full size) as a hint), with that road
    as JPEG, so a person can see what the job took for the empty road and
    check the geometry drawn on it (report.html)."""
    try:
        g = calibrate(road)
        model, centres = None, ()
        if is_perspective(g):
            model, ratio = camera_model.learn_camera(g, list(blobs))
            if model is not None:  # the traffic settled the markings' scale
                g = dataclasses.replace(g, k=g.k / ratio, scale=g.scale / ratio)
                centres = tuple(lanes.learn_lanes(road, model, list(blobs)))
        elif g is not None and g.vanishing_point is None:
            hint = None if pixels_per_metre is None else pixels_per_metre / reduce
            g = dataclasses.replace(g, scale=topdown_scale(g, blobs, hint))
    except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
        g = model = None  # the geometry is a finding of the run, never a reason for it to fail
    h, w = road.shape[:2]
    jpeg = encode_jpeg(road, quality=EMPTY_ROAD_QUALITY)
    if g is None:
        return CameraGeometry(camera, None, None, None, None, None, 0, sample_frames,
                              w * reduce, h * reduce, empty_road_jpeg=jpeg)
    vp = g.vanishing_point
    return CameraGeometry(
        camera,
        None if vp is None else round(vp[0] * reduce, 2),
        None if vp is None else round(vp[1] * reduce, 2),
        round(g.direction_deg, 3), None if vp is None else round(g.k, 6),
        round(g.scale * reduce, 4), g.lines, sample_frames, w * reduce, h * reduce,
        None if model is None else round(model.focal * reduce, 2),
        None if model is None else round(model.height, 3), centres, jpeg)


def tagging_scale(record, pixels_per_metre):
    """Pixels per metre (full size) for the constant-scale tagger: what a
    camera's CameraGeometry record learned where its road's lines are
    parallel, else ``pixels_per_metre`` (the option's hint), else the
    default."""
    if record is not None and record.vanishing_u is None and record.scale_centre:
        return record.scale_centre
    return pixels_per_metre or DEFAULT_PIXELS_PER_METRE


def road_geometry(record, reduce=1):
    """The RoadGeometry of a CameraGeometry record, in pixels of 1/``reduce``
    of the full size (None when nothing was learned)."""
    if not record.marking_lines or record.direction_deg is None:
        return None
    vp = (None if record.vanishing_u is None
          else (record.vanishing_u / reduce, record.vanishing_v / reduce))
    return RoadGeometry(vp, record.direction_deg, record.scale_k or 0.0,
                        record.scale_centre / reduce, record.marking_lines,
                        record.width // reduce, record.height // reduce)
