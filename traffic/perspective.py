"""The background tagger on cameras that look along the road.

A camera mounted high beside or above a highway sees the road run into the
picture towards a vanishing point: far vehicles are small, a vehicle's
outline depends on where it stands, nearer vehicles hide parts of farther
ones, and in dense traffic the vehicles of a queue touch in the image, so
the foreground is a few large blobs, not one blob per vehicle.  With the
camera's ``CameraModel`` (``traffic.camera_model``: learned from its own
empty road and the blobs of its own sample frames) the tagger knows how big
a car, a bus or a truck standing at any point of the road looks, and cuts
the foreground into vehicles from the nearest outwards:

1. the foreground against the empty road, without the vehicles' shadows
   (``vehicle_mask``);
2. repeatedly, the lowest foreground pixel left - the point of a vehicle
   nearest to the camera, where it stands on the road - and the vehicle
   standing there: a car's box, moved a little across and along the road
   to cover the most foreground; a bus or truck instead when their longer
   box is as well filled (a bus: one paint colour besides its glass; a
   truck: cab and body differ);
3. that box's foreground pixels are taken away, and the next lowest pixel
   is the next vehicle;
4. its colour is named on the frame brought to the empty road's light and
   white-balanced on the lane markings (white paint on every highway).

A vehicle whose box is cut by the frame's edge, or too small to type
(``MIN_BOX_PX``), is not counted; so is a box the foreground fills too
little (what is left of a vehicle already taken).
"""

import numpy as np
from scipy import ndimage

from traffic import background as bg
from traffic import camera_model as cm
from traffic.calibration import marking_pixels, road_geometry
from traffic.colour import colour_votes, name_colour
from traffic.records import Detection
from traffic.vocabulary import COLOURS

# A cast shadow is the road lit by the sky alone: darker than the road by a
# common factor in every channel, and the same factor for every shadow in a
# frame (one sun, one sky).
SHADOW_RATIO = (0.25, 0.9)  # darkening factors a shadow can have
SHADOW_CHROMA_SPREAD = 0.1  # the channels' factors agree this closely
SHADOW_BAND = 0.07  # around the frame's most common factor
MIN_SHADOW_PIXELS = 50
MIN_BOX_PX = 10  # full-size pixels: the shorter side a vehicle needs to be typed
MIN_FILL = 0.3  # share of a vehicle's box its foreground must fill
LONG_FILL = 0.7  # ... for a bus or truck's longer box to be preferred
ONE_PAINT = 0.6  # a bus: the share of its most common colour (glass aside)
SHIFTS_M = (-0.6, -0.3, 0.0, 0.3, 0.6)  # across the road, for a car's box
STEP_ALONG_M = (0.0, 0.6)
# The level (sRGB) white lane paint is named at: set on the tuning seeds (it
# is also the generator's marking paint, so colour figures on generated
# scenes are optimistic about it).
MARKING_WHITE = 215.0
MIN_MARKING_PIXELS = 30
_BLACK = COLOURS.index("black")


def shadow_mask(frame, road, foreground):
    """Foreground pixels of ``frame`` (light-normalised, int16) that are the
    ``road`` (uint8) in shadow."""
    ratio = (frame.astype(np.float32) + 1.0) / (road.astype(np.float32) + 1.0)
    mean = ratio.mean(axis=-1)
    spread = (ratio.max(axis=-1) - ratio.min(axis=-1)) / np.maximum(mean, 1e-6)
    candidate = (foreground & (mean >= SHADOW_RATIO[0]) & (mean <= SHADOW_RATIO[1])
                 & (spread <= SHADOW_CHROMA_SPREAD))
    if candidate.sum() < MIN_SHADOW_PIXELS:
        return np.zeros_like(candidate)
    bins = int(round((SHADOW_RATIO[1] - SHADOW_RATIO[0]) / 0.01))
    hist, edges = np.histogram(mean[candidate], bins=bins, range=SHADOW_RATIO)
    peak = int(ndimage.gaussian_filter1d(hist.astype(np.float64), 2).argmax())
    factor = (edges[peak] + edges[peak + 1]) / 2
    return candidate & (np.abs(mean - factor) <= SHADOW_BAND)


def _mask_and_frame(pixels, road):
    frame, foreground = bg.differences(pixels, road)
    mask = foreground & ~shadow_mask(frame, road, foreground)
    mask = ndimage.binary_opening(mask, structure=np.ones((2, 2), dtype=bool))
    mask = ndimage.binary_closing(mask, structure=np.ones((3, 3), dtype=bool))
    return ndimage.binary_fill_holes(mask), frame


def vehicle_mask(pixels, road):
    """Pixels of a frame that are vehicles: different from the empty road
    (at the frame's light), not a shadow on it, specks removed, small gaps
    closed, holes filled."""
    return _mask_and_frame(pixels, road)[0]


def white_balance(road):
    """Per-channel gains that make the camera's lane markings, white paint on
    every highway, ``MARKING_WHITE`` on its empty road: the reference a
    frame's colours are named against once it is at the empty road's light,
    so exposure, the time of day and the camera's colour cast do not change
    a paint's name.  Ones where no markings are seen."""
    rows, cols = marking_pixels(road)
    if len(rows) < MIN_MARKING_PIXELS:
        return np.ones(3)
    reference = np.median(road[rows, cols].astype(np.float64), axis=0)
    return MARKING_WHITE / np.maximum(reference, 1.0)


def isolated_blobs(pixels, road):
    """[(u, v, width, height)] of the frame's vehicle blobs that the frame's
    edge does not cut: (u, v) the middle of its lowest row (its lower edge),
    sizes in pixels.  What ``camera_model.learn_camera`` learns from."""
    labels, _ = ndimage.label(vehicle_mask(pixels, road))
    h, w = labels.shape
    out = []
    for index, (ys, xs) in enumerate(ndimage.find_objects(labels), start=1):
        if xs.start == 0 or ys.start == 0 or xs.stop == w or ys.stop == h:
            continue
        rows, cols = np.nonzero(labels[ys, xs] == index)
        low = rows.max()
        out.append((float(cols[rows == low].mean() + xs.start + 0.5), float(ys.start + low + 1),
                    int(xs.stop - xs.start), int(ys.stop - ys.start)))
    return out


def _pixel_box(box):
    return (int(np.floor(box[0])), int(np.floor(box[1])), int(np.ceil(box[2])), int(np.ceil(box[3])))


def _inside(box, shape):
    x0, y0, x1, y1 = box
    return max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)


def _fill(left, box):
    """(foreground pixels left in the box, its share of the box's area)."""
    x0, y0, x1, y1 = _inside(box, left.shape)
    if x1 <= x0 or y1 <= y0:
        return None, 0.0
    inside = left[y0:y1, x0:x1]
    return inside, inside.sum() / max(1, (box[2] - box[0]) * (box[3] - box[1]))


def _one_paint(pixels, inside, window):
    """Is the foreground ``inside`` (from ``_fill``) of the clipped box
    ``window`` one paint, glass aside?"""
    x0, y0, x1, y1 = window
    votes = colour_votes(pixels[y0:y1, x0:x1][inside])
    votes[_BLACK] = 0  # glass, tyres and shade
    return votes.sum() > 0 and votes.max() >= ONE_PAINT * votes.sum()


def _vehicle_at(model, pixels, left, u, v):
    """(type, box, fill) of the vehicle standing at pixel (u, v), or None."""
    best = None
    shifts = [(dx, dy) for dx in SHIFTS_M for dy in STEP_ALONG_M]
    for box in cm.vehicle_boxes(model, u, v, "car", shifts):
        if np.isnan(box).any():
            continue
        box = _pixel_box(box)
        inside, fill = _fill(left, box)
        if inside is None:
            continue
        area = (box[2] - box[0]) * (box[3] - box[1])
        n = int(inside.sum())
        score = n - 0.5 * (area - n)  # cover the foreground, not the road
        if best is None or score > best[0]:
            best = (score, "car", box, fill)
    if best is None:
        return None
    found = best[1:]
    bus = cm.vehicle_box(model, u, v, "bus")
    if bus is None:
        return found
    bus = _pixel_box(bus)
    inside, fill = _fill(left, bus)
    if fill < LONG_FILL:
        return found
    if _one_paint(pixels, inside, _inside(bus, left.shape)):
        return "bus", bus, fill
    long_truck = cm.vehicle_box(model, u, v, "long truck")
    if long_truck is not None:
        long_truck = _pixel_box(long_truck)
        long_fill = _fill(left, long_truck)[1]
        if long_fill >= LONG_FILL:
            return "truck", long_truck, long_fill
    truck = cm.vehicle_box(model, u, v, "truck")
    if truck is not None:
        return "truck", _pixel_box(truck), fill
    return found


def _lowest_run(left):
    """(row, first column, last column) of the leftmost run of foreground in
    the lowest row that has any."""
    rows = np.nonzero(left.any(axis=1))[0]
    if len(rows) == 0:
        return None
    row = int(rows[-1])
    cols = np.nonzero(left[row])[0]
    end = cols[0]
    for c in cols[1:]:
        if c - end > 1:
            break
        end = c
    return row, int(cols[0]), int(end)


def camera_of(record, reduce):
    """The CameraModel, at 1/``reduce`` of the full size, of a CameraGeometry
    record; None where the job learned none (a camera straight above the
    road, or one it could not calibrate): the top-down tagger serves it."""
    if record is None or record.focal_px is None:
        return None
    return cm.from_geometry(road_geometry(record, reduce), record.focal_px / reduce,
                            record.camera_height_m)


def find_vehicles(pixels, road, model, scale=1.0, white=None):
    """Vehicles in one frame of a camera looking along the road.

    ``pixels`` and ``road`` are uint8 RGB at the working size and ``model``
    the camera's CameraModel at that size; ``scale`` is full-size pixels per
    working pixel; ``white`` the camera's ``white_balance`` (computed when not
    given).  Boxes are returned in full-size pixels.
    """
    left, frame = _mask_and_frame(pixels, road)
    white = white_balance(road) if white is None else white
    balanced = np.clip(frame * white, 0, 255).astype(np.uint8)
    h, w = left.shape
    found = []
    while True:
        low = _lowest_run(left)
        if low is None:
            break
        row, c0, c1 = low
        ground = model.ground((c0 + c1 + 1) / 2, row + 1.0)
        if ground is None:
            break  # at or above the horizon: nothing more stands on the road
        # its nearest corner: the run's end towards the camera's side
        u = c0 if ground[0] > 0.9 else (c1 + 1 if ground[0] < -0.9 else (c0 + c1 + 1) / 2)
        vehicle = _vehicle_at(model, pixels, left, u, row + 1.0)
        if vehicle is None:
            left[row, c0:c1 + 1] = False
            continue
        kind, box, fill = vehicle
        x0, y0, x1, y1 = _inside(box, left.shape)
        piece = left[y0:y1, x0:x1].copy()
        left[y0:y1, x0:x1] = False
        left[row, c0:c1 + 1] = False  # always: the search moves on
        if fill < MIN_FILL or piece.sum() < 4:
            continue
        cut = (box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h or row >= h - 1
               or (x0 == 0 and piece[:, 0].any()) or (x1 == w and piece[:, -1].any()))
        if cut or min(box[2] - box[0], box[3] - box[1]) * scale < MIN_BOX_PX:
            continue
        found.append(Detection(
            type=kind, colour=name_colour(balanced[y0:y1, x0:x1][piece]),
            score=round(float(fill), 4),
            x0=int(round(box[0] * scale)), y0=int(round(box[1] * scale)),
            x1=int(round(box[2] * scale)), y1=int(round(box[3] * scale))))
    return found
