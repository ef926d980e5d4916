"""The background tagger on cameras that look along the road.

A camera mounted high beside or above a highway sees the road run into the
picture towards a vanishing point: far vehicles are small, a vehicle's
outline depends on where it stands, nearer vehicles hide parts of farther
ones, and in dense traffic the vehicles of a queue touch in the image, so
the foreground is a few large blobs, not one blob per vehicle.  With the
camera's ``CameraModel`` (``traffic.camera_model``: learned from its own
empty road and the blobs of its own sample frames) the outline of every
vehicle the road can hold is known in advance (``traffic.silhouettes``), and
the tagger picks the set of outlines that explains the frame:

1. on the full-size frame (at most ``SEARCH_MAX_WIDTH`` wide; the empty
   road, learned on half-size frames, brought to that size), the evidence
   against the empty road: pixels that are clearly a vehicle
   (different from the road at the frame's light, not a shadow on it), and
   pixels that may be either (shadow-like, or faintly different: a
   vehicle's own shaded side, grey paint on a grey road) (``evidence.frame_evidence``),
   and of the rest, those off the road beyond the frame's noise other than
   as a shadow's soft edge is (``evidence.faint_paint``: under a car whose
   windows are seen they may be either);
2. repeatedly, the outline - of a car, motorcycle, bus, rigid or articulated
   truck, anywhere on the road - that covers the most vehicle pixels not yet
   explained, net of the road pixels it would cover (``search.Search``); a bus or
   truck only where it explains more than the cars that fit inside its box
   would, and is mostly one paint, as a bus or a truck's body is and a queue
   of cars is not;
3. each vehicle's visible pixels are those it is the nearest chosen vehicle
   at; a bus is one paint besides its glass, a truck is not; colours are
   named on the frame brought to the empty road's light and white-balanced
   on the lane markings (white paint on every highway), a truck's on its
   cab where it shows (``cab_pixels``).

A vehicle whose box is cut by the frame's edge, or too small to type
(``MIN_BOX_PX``, ``MIN_BOX_SHARE``), is not counted; a motorcycle only
where it rides apart (a small piece of foreground bordering a vehicle is
what is left of that vehicle).
"""

import dataclasses
import math
import typing

import numpy as np
from PIL import Image
from scipy import ndimage

from traffic import background as bg
from traffic import camera_model as cm
from traffic import lanes
from traffic import silhouettes as sil
from traffic.calibration import road_geometry, tagging_scale
from traffic.colour import CAR_PAINT_SHARE, CHROMATIC_SHARE, name_colour, pixel_names
from traffic.perspective.evidence import dark_pixels, frame_evidence, main_paint, white_balance
from traffic.perspective.search import Search, settle, visible
from traffic.records import Detection

# The shorter side of its box a vehicle needs to be typed: MIN_BOX_PX
# searched pixels, or MIN_BOX_SHARE of the frame's width where that is
# fewer full-size pixels.  By default frames are searched at most 640
# pixels wide, and both are 10 pixels of a 640-pixel frame, 20 of a
# 1280-pixel one: what the search tells apart is at the size it searches.
# (As 10 full-size pixels at every size, a 1280-pixel camera with no more
# detail than a 640-pixel one had far vehicles reported that no 640-pixel
# frame of them could type, most of them wrong.)  A frame searched wider
# (``--search-width``: a sharp camera's) types from 10 searched pixels, one
# searched narrower from 10 pixels of a 640-pixel frame, as it always did.
MIN_BOX_PX = 10
MIN_BOX_SHARE = 1 / 64
ONE_PAINT = 0.6  # a bus: the share of its most common colour (glass aside)
MIN_VISIBLE_PX = 3
# A truck's load rides on a chassis over its wheels: on the side turned to
# the camera, between its axles, the band 0.2-0.8 m above the road is wheels,
# chassis, tanks and the road seen between them.  A bus's body comes down to
# about 0.3 m: that band is its paint.
UNDERBODY_M = (0.2, 0.8)
BETWEEN_AXLES = 0.6  # the middle share of a bus's or truck's length
BETWEEN_WHEELS = 0.6  # the middle share of its width
LOW_BODY = 0.5  # a bus: the share of that band that is its paint
SEARCH_MAX_WIDTH = 640  # pixels: wider frames are searched at a whole fraction of their full size
MIN_SEARCH_WIDTH = 160  # a floor: outlines stop where a car is under sil.MIN_CAR_PX searched pixels


def camera_of(record, reduce):
    """The CameraModel, at 1/``reduce`` of the full size, of a CameraGeometry
    record; None where the job learned none (a camera straight above the
    road, or one it could not calibrate): the top-down tagger serves it."""
    if record is None or record.focal_px is None:
        return None
    return cm.from_geometry(road_geometry(record, reduce), record.focal_px / reduce,
                            record.camera_height_m)


class PerspectiveCamera(typing.NamedTuple):
    """What the tagger knows of one camera that looks along the road, at the
    size its frames are searched at (``perspective_camera``)."""
    model: cm.CameraModel
    white: np.ndarray  # white_balance
    silhouettes: sil.Silhouettes
    road: np.ndarray  # the empty road, uint8 RGB
    step: int = 1  # full-size pixels per searched pixel


def search_step(width, max_width=SEARCH_MAX_WIDTH):
    """The whole factor the search works at below a frame's full width, for
    frames searched at most ``max_width`` wide: the outlines' number and
    size grow with the square of the width (at full-HD size they took
    gigabytes per worker)."""
    return max(1, math.ceil(width / max_width))


def _blocks(image, step):
    """Means over step x step blocks (the frame's last partial rows and
    columns dropped)."""
    h, w = image.shape[0] // step, image.shape[1] // step
    cut = np.asarray(image[:h * step, :w * step], dtype=np.float32)
    return cut.reshape(h, step, w, step, *image.shape[2:]).mean(axis=(1, 3))


def perspective_camera(model, road, lane_centres=(), full_shape=None, max_width=SEARCH_MAX_WIDTH):
    """The PerspectiveCamera of a CameraModel and the camera's empty road
    (both at the working size, the half-size draft the job learns cameras
    on), for frames of ``full_shape`` (rows, columns; default the road's):
    the outlines of the vehicles its road can hold, between its outermost
    markings, in its lanes where their middles (``lane_centres``, metres:
    ``traffic.lanes``) are known, at the size the frames are searched at
    (``search_step``, at most ``max_width`` wide), and the empty road
    brought to that size."""
    full_shape = tuple(full_shape or road.shape[:2])
    step = search_step(full_shape[1], max_width)
    shape = (full_shape[0] // step, full_shape[1] // step)
    f = shape[1] / road.shape[1]
    searched = dataclasses.replace(model, focal=model.focal * f, cx=model.cx * f, cy=model.cy * f)
    extent = lanes.road_extent(lanes.marking_offsets(road, model))
    white = white_balance(road)
    if road.shape[:2] != shape:  # the means of the pixels it covers where it shrinks
        road = np.asarray(Image.fromarray(road).resize(
            shape[::-1], Image.BILINEAR if f > 1 else Image.BOX))
    return PerspectiveCamera(searched, white, sil.silhouettes(searched, shape, extent, tuple(lane_centres)),
                             road, step)


# A motorcycle rides apart from the vehicles around it: road, or its own
# shadow, shows around what is seen of it.  A piece of foreground that a
# chosen vehicle's pixels border, or more foreground no vehicle explains
# beside it (the rest of a car whose outline did not take it all, a truck's
# shadow), is what is left of another vehicle.  Of the rim of its seen
# pixels (the pixels within RIM_PX of them), at most APART_OTHER may be
# other vehicles' and at most APART_LOOSE foreground no vehicle explains in
# the rows it is seen in: above and below what is seen of it, such
# foreground is more often its own (a rider sits taller or shorter than the
# outline's box, a passenger or a top box rides higher still, the wheels
# meet their shadow below).  (Set on seeds 101-103 from every motorcycle
# the search chose, scored against the truth: rules at 0.15 other and 0.35
# loose anywhere kept 118 right and 23 wrong; these kept 148 and 27.  Then
# checked on 104-106, 164 and 19 -> 186 and 28, and on fresh seeds
# 217-219 with hand_loop: motorcycle recall +5..+7 on each, precision
# -16..+0.4, F1 up on each.)
APART_OTHER = 0.2
APART_LOOSE = 0.25
RIM_PX = 2  # searched pixels: the rim is the pixels this close (one of the half-size draft it was set on)


def _apart(seen, owner, mask):
    """Does the chosen vehicle seen at pixels ``seen`` (``visible``'s
    owners: ``owner``) stand apart from the others (``APART_OTHER``, and
    ``APART_LOOSE`` beside it)?"""
    rows, cols = np.nonzero(seen)
    y0, x0 = max(0, rows.min() - RIM_PX), max(0, cols.min() - RIM_PX)
    y1, x1 = rows.max() + RIM_PX + 1, cols.max() + RIM_PX + 1
    own, at = seen[y0:y1, x0:x1], owner[y0:y1, x0:x1]
    rim = ndimage.binary_dilation(own, np.ones((2 * RIM_PX + 1,) * 2, dtype=bool)) & ~own
    total = rim.sum()
    other = (rim & (at >= 0)).sum()
    beside = slice(rows.min() - y0, rows.max() - y0 + 1)  # the rows it is seen in
    loose = (rim & (at < 0) & mask[y0:y1, x0:x1])[beside].sum()
    return other <= APART_OTHER * total and loose <= APART_LOOSE * total


def heavy_type(outlines, i, n, owner, frame, seen):
    """The type, "bus" or "truck", of chosen outline i (the n-th chosen) of
    a bus or a truck, given ``visible``'s owners, the frame's
    (white-balanced) colours and those of the pixels it is seen at
    (``seen``): a bus is one paint besides its glass (a ``SAME_PAINT``
    family counting as one), a truck's cab and load are not; and where the
    side turned to the camera shows, a bus's body reaches down between its
    axles, a truck's load does not.  Where that side does not show, the
    same band across the end turned to the camera, between its wheels:
    under a truck's load at the rear, its chassis and the road; a bus's
    body at either end (a truck seen from the front shows its cab there,
    and passes for a bus).  Where neither shows, an outline longer than a
    bus is a truck."""
    names, share = main_paint(seen)
    if share is None or share < ONE_PAINT:
        return "truck"
    for rows, cols in (outlines.side_band(i, *UNDERBODY_M, BETWEEN_AXLES),
                       outlines.end_band(i, *UNDERBODY_M, BETWEEN_WHEELS)):
        at = owner[rows, cols]
        band = (at == n) | (at < 0)  # not hidden by a nearer vehicle
        if band.sum() >= MIN_VISIBLE_PX:
            # the road seen between the wheels is not its body
            body = np.isin(pixel_names(frame[rows[at == n], cols[at == n]]), names)
            return "bus" if body.sum() >= LOW_BODY * band.sum() else "truck"
    return "truck" if sil.KINDS[outlines.kind[i]] == "long truck" else "bus"


# A truck's colour is its cab's: the load is often another paint (a box in
# a hire firm's white, a trailer that changes tractors).  A cab-over
# truck's cab is about 2.3-2.5 m deep and 3 m high; the load's box above
# it is the load.  (Named on the cab, truck colour on seeds 101-103 34.8
# -> 40.2 %; up to the whole outline's height 36.5 %.  Checked on 104-106,
# 37.8 -> 42.2 %, and on fresh seeds 223-225, 43.4 -> 49.6 %; vehicles and
# cars' colours unchanged.)
CAB_M = 2.5
CAB_HEIGHT_M = 3.0


def _seen_ends(outlines, i, rows, cols):
    """The nearest and farthest road positions (metres along the road) of
    the vehicle of outline i seen at pixels (``rows``, ``cols``): where the
    lowest row it is seen in meets the road, and where the highest meets its
    kind's height (a vehicle's outline may stand a little off it, or be
    longer)."""
    model = outlines.model
    height = cm.SIZES_M[sil.KINDS[outlines.kind[i]]][2]
    low, high = rows.max(), rows.min()
    _, near = model.ground_points(cols[rows == low].mean() + 0.5, low + 1.0)
    _, top = model.ground_points(cols[rows == high].mean() + 0.5, float(high))
    return float(near[0]), float(top[0]) * (model.height - height) / model.height


def cab_pixels(outlines, i, seen, frame):
    """Of a truck (outline i) seen at pixels ``seen``, those of its cab:
    the first ``CAB_M`` metres of what is seen of it from its nearer end
    (``_seen_ends``), up to ``CAB_HEIGHT_M``, where its main paint
    (``main_paint`` of the white-balanced ``frame``) is not the paint of
    the rest - a truck coming towards the camera; all of ``seen`` where it
    is the same (a cab in the load's paint, or the rear of the load of a
    truck going away, whose cab its load hides)."""
    rows, cols = np.nonzero(seen)
    near, far = _seen_ends(outlines, i, rows, cols)
    if not far - near >= 2 * CAB_M:  # NaN above the horizon
        return seen
    body_rows, body_cols = outlines.body_pixels(i, near, near + CAB_M, CAB_HEIGHT_M)
    at = seen[body_rows, body_cols]
    if at.sum() < MIN_VISIBLE_PX:
        return seen
    front = np.zeros_like(seen)
    front[body_rows[at], body_cols[at]] = True
    rest = ~front[rows, cols]
    load, _ = main_paint(frame[rows[rest], cols[rest]])
    cab, _ = main_paint(frame[body_rows[at], body_cols[at]])
    return front if None not in (load, cab) and cab != load else seen


def reported_box(box, scale):
    """The box a vehicle is reported with, in full-size pixels, of its
    outline's box (searched pixels, float, exclusive) at ``scale`` full-size
    pixels per searched pixel: every pixel it touches (a far car is a few
    pixels wide: rounding its ends would shave a pixel off each).  A vehicle
    is too small to type by this box, the one its users see, not by the
    float box inside it."""
    return (math.floor(box[0] * scale), math.floor(box[1] * scale),
            math.ceil(box[2] * scale), math.ceil(box[3] * scale))


def with_faint_paint(seen, pixels, faint, owner):
    """A car's seen pixels (``seen``) and the ``faint`` ones
    (``evidence.faint_paint``) among its outline's ``pixels`` (rows,
    columns) at which no chosen vehicle is seen (``owner`` < 0): the paint
    to name.  Of a grey car on a grey road often only the windows and roof
    are vehicle pixels, and its glass alone reads black.  (On seeds 101-103
    car colour 87.2 -> 87.5 %, grey cars named black 107 -> 87; checked on
    104-106, +0.15, and on fresh seeds 220-222, +0.2.)"""
    rows, cols = pixels
    extra = faint[rows, cols] & (owner[rows, cols] < 0)
    if not extra.any():
        return seen
    painted = seen.copy()
    painted[rows[extra], cols[extra]] = True
    return painted


def full_size_paint(full, seen, box, gains, white):
    """The pixels of the full-size frame ``full`` (uint8 RGB) a vehicle is
    seen at: those inside its reported ``box`` (full-size pixels) whose
    pixel of ``seen`` (its visible pixels, at a whole fraction of the full
    size) is set, brought to the empty road's light (``gains``) and
    white-balanced (``white``): where a wide frame is searched at a
    fraction of its size, a far car is a few searched pixels wide, most of
    them shared with the road at its edges, and at full size many times as
    many pixels show its paint alone."""
    f = -(-full.shape[0] // seen.shape[0])  # full-size pixels per pixel of ``seen``
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(full.shape[1], box[2]), min(full.shape[0], box[3])
    rows, cols = np.arange(y0, y1) // f, np.arange(x0, x1) // f
    at = seen[np.minimum(rows, seen.shape[0] - 1)][:, np.minimum(cols, seen.shape[1] - 1)]
    paint = full[y0:y1, x0:x1][at].astype(np.float32) / gains * white
    return np.clip(paint, 0, 255).round().astype(np.uint8)


def find_vehicles(full, camera):
    """Vehicles in one frame (uint8 RGB, at full size) of a camera looking
    along the road, its PerspectiveCamera ``camera``.

    The frame is searched at full size, or where it is wider than
    ``SEARCH_MAX_WIDTH`` as the means of ``camera.step`` x ``camera.step``
    blocks: a far car is a few pixels wide, and at half size most of them
    are shared with the road at its edges.  Boxes are returned in full-size
    pixels: the box of the whole vehicle, hidden parts included
    (``reported_box``); colours are named on the full-size frame
    (``full_size_paint``).
    """
    step, road = camera.step, camera.road
    pixels = full if step == 1 else _blocks(full, step).round().astype(np.uint8)
    gains = bg.channel_gains(pixels, road)  # the frame's light against the road's
    mask, unsure, frame, faint = frame_evidence(pixels, road, gains)
    dark = dark_pixels(mask, frame, road)
    outlines = camera.silhouettes
    balanced = np.clip(frame * camera.white, 0, 255).astype(np.uint8)
    search = Search(outlines, mask, unsure, balanced, dark, faint)
    chosen = search.run()
    if not chosen:
        return []
    chosen = settle(outlines, chosen, mask, unsure, dark, search.edges)
    owner = visible(outlines, chosen, mask)
    min_box = min(MIN_BOX_PX * step, MIN_BOX_SHARE * full.shape[1])
    found = []
    for n, i in enumerate(chosen):
        box = outlines.box[i]
        x0, y0, x1, y1 = reported_box(box, step)
        if outlines.cut[i] or min(x1 - x0, y1 - y0) < min_box:
            continue
        seen = owner == n
        visible_px = int(seen.sum())
        if visible_px < MIN_VISIBLE_PX:
            continue
        kind = sil.KINDS[outlines.kind[i]]
        if kind == "motorcycle" and not _apart(seen, owner, mask):
            continue
        if outlines.kind[i] in sil.LONG_KINDS:
            kind = heavy_type(outlines, i, n, owner, balanced, balanced[seen])
        painted = (with_faint_paint(seen, outlines.pixels(i), faint, owner) if kind == "car"
                   else cab_pixels(outlines, i, seen, balanced) if kind == "truck" else seen)
        paint = full_size_paint(full, painted, (x0, y0, x1, y1), gains, camera.white)
        found.append(Detection(
            type=kind, colour=name_colour(paint, CAR_PAINT_SHARE if kind == "car" else CHROMATIC_SHARE),
            score=round(float(visible_px / outlines.area[i]), 4),
            x0=x0, y0=y0, x1=x1, y1=y1))
    return found


def frame_tagger(record, road, pixels_per_metre=None, search_width=SEARCH_MAX_WIDTH):
    """The tagger of one camera's frames, ``(pixels, scale, full_size) ->
    [Detection]`` (``pixels``: the frame at the working size, ``full_size``:
    a function that decodes it at full size, called only where the
    perspective tagger searches it), from what the job learned of the camera
    (its CameraGeometry record) and its empty road (at the working size, a
    whole fraction of the full): this module's for a camera that looks along
    the road, the constant-scale tagger (``background``) at the camera's
    learned scale, or at ``pixels_per_metre`` where none was learned, for
    one straight above it or whose frame is not its road's size; frames are
    searched at most ``search_width`` wide.  Built once per camera and
    worker (the outlines take a second or two)."""
    model = None if record is None else camera_of(record, round(record.width / road.shape[1]))
    view = None if model is None else perspective_camera(
        model, road, record.lane_centres_m, (record.height, record.width), search_width)
    metres = tagging_scale(record, pixels_per_metre)

    def tag(pixels, scale, full_size):
        if view is not None and pixels.shape == road.shape:
            full = full_size()
            if full.shape[:2] == (record.height, record.width):
                return find_vehicles(full, view)
        return bg.find_vehicles(pixels, road, scale, metres)
    return tag
