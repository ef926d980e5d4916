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

1. the evidence against the empty road: pixels that are clearly a vehicle
   (different from the road at the frame's light, not a shadow on it), and
   pixels that may be either (shadow-like, or faintly different: a
   vehicle's own shaded side, grey paint on a grey road) (``_evidence``);
2. repeatedly, the outline - of a car, motorcycle, bus, rigid or articulated
   truck, anywhere on the road - that covers the most vehicle pixels not yet
   explained, net of the road pixels it would cover (``_Search``); a bus or
   truck only where it explains more than the cars that fit inside its box
   would, and is mostly one paint, as a bus or a truck's body is and a queue
   of cars is not;
3. each vehicle's visible pixels are those it is the nearest chosen vehicle
   at; a bus is one paint besides its glass, a truck is not; colours are
   named on the frame brought to the empty road's light and white-balanced
   on the lane markings (white paint on every highway).

A vehicle whose box is cut by the frame's edge, or too small to type
(``MIN_BOX_PX``), is not counted; a motorcycle only where it is alone (a
small piece of foreground beside a vehicle is what is left of that vehicle).
"""

import dataclasses
import math
import typing

import numpy as np
from scipy import ndimage

from traffic import background as bg
from traffic import camera_model as cm
from traffic import lanes
from traffic import silhouettes as sil
from traffic.calibration import marking_pixels, road_geometry, tagging_scale
from traffic.colour import colour_votes, name_colour
from traffic.evaluation import iou_matrix
from traffic.records import Detection
from traffic.vocabulary import COLOURS

# A cast shadow is the road lit by the sky alone: darker than the road by a
# common factor in every channel, and the same factor for every shadow in a
# frame (one sun, one sky).
SHADOW_RATIO = (0.25, 0.9)  # darkening factors a shadow can have
SHADOW_CHROMA_SPREAD = 0.1  # the channels' factors agree this closely
SHADOW_BAND = 0.07  # around the frame's most common factor
MIN_SHADOW_PIXELS = 50
FAINT_DIFFERENCE = 10  # grey levels: below background.FOREGROUND_THRESHOLD, above noise
MIN_BOX_PX = 10  # full-size pixels: the shorter side a vehicle needs to be typed
ONE_PAINT = 0.6  # a bus: the share of its most common colour (glass aside)
# The level (sRGB) white lane paint is named at: set on the tuning seeds (it
# is also the generator's marking paint, so colour figures on generated
# scenes are optimistic about it).
MARKING_WHITE = 215.0
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


def _evidence(pixels, road):
    """(vehicle pixels, pixels that may be either, the frame at the road's
    light).  Vehicle pixels differ clearly from the empty road and are not a
    shadow on it (specks removed, small gaps closed, holes filled).  A
    vehicle's own shaded faces can look just like a shadow, and grey paint
    like the road, so what is shadow-like or differs only faintly is neither
    evidence of a vehicle nor against one."""
    frame, foreground = bg.differences(pixels, road)
    shadow = shadow_mask(frame, road, foreground)
    mask = foreground & ~shadow
    mask = ndimage.binary_opening(mask, structure=np.ones((2, 2), dtype=bool))
    mask = ndimage.binary_closing(mask, structure=np.ones((3, 3), dtype=bool))
    mask = ndimage.binary_fill_holes(mask)
    faint = bg._channel_max(frame - road.astype(np.int16)) > FAINT_DIFFERENCE
    return mask, (shadow | faint) & ~mask, frame


def vehicle_mask(pixels, road):
    """Pixels of a frame that are vehicles: different from the empty road
    (at the frame's light), not a shadow on it, specks removed, small gaps
    closed, holes filled."""
    return _evidence(pixels, road)[0]


def _paint_share(pixels):
    """The share of RGB pixels that the most common colour name has, glass,
    tyres and shade (black) aside; None where only those are left."""
    votes = colour_votes(pixels)
    votes[_BLACK] = 0
    return votes.max() / votes.sum() if votes.sum() > 0 else None


def white_balance(road):
    """Per-channel gains that make the camera's lane markings, white paint on
    every highway, ``MARKING_WHITE`` on its empty road: the reference a
    frame's colours are named against once it is at the empty road's light,
    so exposure, the time of day and the camera's colour cast do not change
    a paint's name.  Ones where no markings are seen."""
    rows, cols = marking_pixels(road)
    if len(rows) < lanes.MIN_MARKING_PIXELS:
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


def empty_road_and_blobs(samples, size=bg.DEFAULT_SAMPLES):
    """(empty road, frames it was made of, isolated vehicle blobs of those
    frames) of one camera from [(rank, working-size pixels)] of its frames
    (``background.sample_frames`` picks them): what the camera's geometry is
    learned from."""
    frames = bg.sample_frames(samples, size)
    road = bg.estimate_background(frames)
    return road, len(frames), [b for f in frames for b in isolated_blobs(f, road)]


def camera_of(record, reduce):
    """The CameraModel, at 1/``reduce`` of the full size, of a CameraGeometry
    record; None where the job learned none (a camera straight above the
    road, or one it could not calibrate): the top-down tagger serves it."""
    if record is None or record.focal_px is None:
        return None
    return cm.from_geometry(road_geometry(record, reduce), record.focal_px / reduce,
                            record.camera_height_m)




# The search's weights, set on the tuning seeds (never on a judged one):
EXPLAIN_BACKGROUND = 3.0  # road pixels inside an outline cost this many vehicle pixels
# (2.0 until the calibration rules; 3.0 raised recall and precision on each of
# seeds 101-106, 2.5 and 4.0 less)
MIN_GAIN = 0.3  # an outline must explain this share of its area, net of that cost
# (0.4 before outlines kept to lanes; lowered on the tuning seeds, where it
# brought the car counts nearest the truth for little precision)
MIN_FILL = 0.5  # outlines the foreground fills less than this are not considered
PER_SMALL_VEHICLE = 0.2  # share of its area each car of a queue must explain beyond that
MIN_VISIBLE_PX = 3
SEARCH_MAX_WIDTH = 480  # working pixels
SETTLE_OVERLAP = 0.3  # box IoU: how far a chosen vehicle may move when it settles
LONG_PAINT = 0.5  # a bus or truck: the share of its most common paint
EDGE_WEIGHT = 0.2  # of its area: what an outline whose sides all lie on edges gains in the order
EDGE_FULL = 40.0  # grey levels: a step this large between neighbours is a whole edge


class PerspectiveCamera(typing.NamedTuple):
    """What the tagger knows of one camera that looks along the road."""
    model: cm.CameraModel
    white: np.ndarray  # white_balance
    silhouettes: sil.Silhouettes  # at 1/step of the working size
    step: int = 1


def search_step(width):
    """The whole factor the search works at below a working width: wider
    frames (full-HD cameras and up) gain no count from more pixels, and the
    outlines' number and size grow with the square of the width."""
    return max(1, math.ceil(width / SEARCH_MAX_WIDTH))


def _blocks(image, step):
    """Means over step x step blocks (the frame's last partial rows and
    columns dropped)."""
    h, w = image.shape[0] // step, image.shape[1] // step
    cut = np.asarray(image[:h * step, :w * step], dtype=np.float32)
    return cut.reshape(h, step, w, step, *image.shape[2:]).mean(axis=(1, 3))


def perspective_camera(model, road, lane_centres=()):
    """The PerspectiveCamera of a CameraModel and the camera's empty road
    (both at the working size): the outlines of the vehicles its road can
    hold, between its outermost markings, in its lanes where their middles
    (``lane_centres``, metres: ``traffic.lanes``) are known."""
    step = search_step(road.shape[1])
    coarse = dataclasses.replace(model, focal=model.focal / step, cx=model.cx / step,
                                 cy=model.cy / step)
    shape = (road.shape[0] // step, road.shape[1] // step)
    extent = lanes.road_extent(lanes.marking_offsets(road, model))
    return PerspectiveCamera(model, white_balance(road),
                             sil.silhouettes(coarse, shape, extent, tuple(lane_centres)), step)


class _Search:
    """Which vehicles' outlines explain a frame's foreground: repeatedly the
    outline that explains the most foreground not yet explained, net of the
    road it covers; a bus or truck only where it explains more than the cars
    and motorcycles that fit inside its box would together (a queue of cars
    fills a long outline too)."""

    def __init__(self, outlines, mask, unsure, paint=None):
        self.s, self.free, self.paint = outlines, mask.copy(), paint
        x0, y0, x1, y1 = outlines.pixel_box.T
        total = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
        total[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
        in_box = total[y1, x1] - total[y0, x1] - total[y1, x0] + total[y0, x0]
        pre = np.nonzero((in_box >= MIN_FILL * outlines.area) & (outlines.area >= 4))[0]
        fg = outlines.counts(sil.row_prefix(mask), pre)
        maybe = outlines.counts(sil.row_prefix(unsure), pre)
        area = outlines.area[pre]
        cost = EXPLAIN_BACKGROUND * (area - fg - maybe)
        # the foreground left to explain only shrinks: an outline that does
        # not qualify now never will
        keep = (fg >= MIN_FILL * area) & (fg - cost >= MIN_GAIN * area)
        self.live = pre[keep]
        self.area = area[keep]
        self.cost = cost[keep]
        self.fg = fg[keep]
        self.box = outlines.pixel_box[self.live]
        self.small = np.isin(outlines.kind[self.live], sil.SMALL_KINDS)
        self.alive = np.ones(len(self.live), dtype=bool)
        self.chosen = []
        # which outline goes first: a vehicle's sides are where its paint
        # meets the road or the next vehicle; an outline across two vehicles
        # of a queue has its sides on their paint
        self.order = (0.0 if paint is None else
                      EDGE_WEIGHT * self.area * edge_support(outlines, self.live, side_edges(paint)))

    def gains(self, among=None):
        """What each outline would explain, net of the road it covers, plus
        its sides' edge support (``EDGE_WEIGHT``): the greedy order; -inf
        where it may not be chosen."""
        g = self.fg - self.cost
        g[~self.alive | (g < MIN_GAIN * self.area)] = -np.inf
        if among is not None:
            g[~among] = -np.inf
        return g + self.order

    def take(self, j):
        self.alive[j] = False
        self.chosen.append(j)
        self.free[self.s.pixels(self.live[j])] = False
        x0, y0, x1, y1 = self.box[j]
        b = self.box
        hit = np.nonzero(self.alive & (b[:, 0] < x1) & (b[:, 2] > x0) & (b[:, 1] < y1) & (b[:, 3] > y0))[0]
        if len(hit):
            self.fg[hit] = self.s.counts(sil.row_prefix(self.free), self.live[hit])
            self.alive[hit] = self.fg[hit] - self.cost[hit] >= MIN_GAIN * self.area[hit]

    def state(self):
        return self.free.copy(), self.fg.copy(), self.alive.copy(), list(self.chosen)

    def restore(self, state):
        self.free, self.fg, self.alive, self.chosen = state

    def _one_body(self, j, free):
        """Is what a long outline would explain mostly one paint (a bus, a
        truck's body), not the several paints of a queue of cars?"""
        if self.paint is None:
            return True
        at = self.s.pixels(self.live[j])
        share = _paint_share(self.paint[at][free[at]])
        return share is None or share >= LONG_PAINT

    def _small_inside(self, j):
        x0, y0, x1, y1 = self.box[j]
        b = self.box
        return self.small & (b[:, 0] >= x0 - 1) & (b[:, 2] <= x1 + 1) & (b[:, 1] >= y0 - 1) & (b[:, 3] <= y1 + 1)

    def run(self):
        while True:
            g = self.gains()
            j = int(np.argmax(g)) if len(g) else 0
            if not len(g) or not np.isfinite(g[j]):
                return [self.live[k] for k in self.chosen]
            if self.small[j]:
                self.take(j)
                continue
            before, inside, queue = self.state(), self._small_inside(j), 0.0
            while True:
                gs = self.gains(inside)
                k = int(np.argmax(gs))
                if not np.isfinite(gs[k]):
                    break
                queue += gs[k] - PER_SMALL_VEHICLE * self.area[k]
                self.take(k)
            if g[j] >= queue and self._one_body(j, before[0]):
                self.restore(before)
                self.take(j)
            else:
                self.alive[j] = False  # the queue explains it better


def side_edges(image):
    """Edge strength (0..1) between each pixel of an RGB image and its left
    neighbour: the largest step over the channels, a step of EDGE_FULL or
    more a whole edge."""
    p = image.astype(np.int16)
    steps = np.zeros(p.shape[:2], dtype=np.float32)
    steps[:, 1:] = np.abs(p[:, 1:] - p[:, :-1]).max(axis=-1)
    return np.minimum(steps / EDGE_FULL, 1.0)


def edge_support(outlines, index, edges):
    """For each of outlines ``index``: the mean over its rows of the edge
    strength (``side_edges``) at its left and right ends, within a pixel
    of each (where the outline's sides lie on the image's edges, 1)."""
    near = ndimage.maximum_filter1d(edges, 3, axis=1)
    spans = outlines.spans(index)
    rows, w = outlines.rows[spans], edges.shape[1]
    at = (near[rows, np.minimum(outlines.left[spans], w - 1)]
          + near[rows, np.minimum(outlines.right[spans], w - 1)]) / 2
    return outlines.sums(index, at) / np.maximum(outlines.start[index + 1] - outlines.start[index], 1)


def _settle(outlines, chosen, mask, unsure):
    """Each chosen vehicle moved, in turn and with the others kept where
    they are, to the outline of its kind near it that best explains the
    foreground the others leave: greedy choice prefers an outline that also
    covers a neighbour's pixels, which its neighbour explains anyway."""
    cover = np.zeros(mask.shape, dtype=np.int16)
    for i in chosen:
        cover[outlines.pixels(i)] += 1
    either = sil.row_prefix(mask | unsure)
    boxes = outlines.pixel_box
    settled = list(chosen)
    for n, i in enumerate(settled):
        cover[outlines.pixels(i)] -= 1  # the others' cover
        free = sil.row_prefix(mask & (cover == 0))
        near = np.nonzero((outlines.kind == outlines.kind[i])
                          & (iou_matrix(boxes[i], boxes)[0] >= SETTLE_OVERLAP))[0]
        explained = outlines.counts(free, near)
        road = outlines.area[near] - outlines.counts(either, near)
        best = near[int(np.argmax(explained - EXPLAIN_BACKGROUND * road))]
        cover[outlines.pixels(best)] += 1
        settled[n] = best
    return settled


def _visible(outlines, chosen, mask):
    """For each chosen outline, the foreground pixels it is the nearest
    vehicle at (what is seen of it)."""
    owner = np.full(mask.shape, -1, dtype=np.int32)
    for n in sorted(range(len(chosen)), key=lambda n: -outlines.depth[chosen[n]]):
        owner[outlines.pixels(chosen[n])] = n
    owner[~mask] = -1
    return owner


ALONE_RING = 1.0  # a motorcycle's box widths around it
ALONE_MAX = 0.15


def _alone(box, mask, seen):
    """Is the foreground around a small outline mostly empty road?  A
    motorcycle rides alone in its lane; a small piece of foreground beside a
    vehicle is what is left of that vehicle."""
    h, w = mask.shape
    pad = ALONE_RING * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = max(0, int(box[0] - pad)), max(0, int(box[1] - pad))
    x1, y1 = min(w, int(np.ceil(box[2] + pad))), min(h, int(np.ceil(box[3] + pad)))
    ring = mask[y0:y1, x0:x1].sum() - seen[y0:y1, x0:x1].sum()
    return ring <= ALONE_MAX * ((x1 - x0) * (y1 - y0) - seen[y0:y1, x0:x1].sum())


def find_vehicles(pixels, road, camera, scale=1.0):
    """Vehicles in one frame of a camera looking along the road.

    ``pixels`` and ``road`` are uint8 RGB at the working size and ``camera``
    its PerspectiveCamera at that size; ``scale`` is full-size pixels per
    working pixel.  Boxes are returned in full-size pixels: the box of the
    whole vehicle, hidden parts included, every pixel it touches (a far
    car is a few pixels wide: rounding its ends would shave a pixel off
    each).
    """
    mask, unsure, frame = _evidence(pixels, road)
    outlines = camera.silhouettes
    balanced = np.clip(frame * camera.white, 0, 255).astype(np.uint8)
    if camera.step > 1:
        mask = _blocks(mask, camera.step) >= 0.5
        unsure = (_blocks(unsure, camera.step) >= 0.5) & ~mask
        balanced = _blocks(balanced, camera.step).round().astype(np.uint8)
        scale = scale * camera.step
    chosen = _Search(outlines, mask, unsure, balanced).run()
    if not chosen:
        return []
    chosen = _settle(outlines, chosen, mask, unsure)
    owner = _visible(outlines, chosen, mask)
    found = []
    for n, i in enumerate(chosen):
        box = outlines.box[i]
        if outlines.cut[i] or min(box[2] - box[0], box[3] - box[1]) * scale < MIN_BOX_PX:
            continue
        seen = owner == n
        if seen.sum() < MIN_VISIBLE_PX:
            continue
        kind = sil.KINDS[outlines.kind[i]]
        if kind == "motorcycle" and not _alone(box, mask, seen):
            continue
        paint = balanced[seen]
        if kind in ("bus", "truck"):
            share = _paint_share(paint)
            kind = "bus" if share is not None and share >= ONE_PAINT else "truck"
        elif kind == "long truck":
            kind = "truck"
        found.append(Detection(
            type=kind, colour=name_colour(paint), score=round(float(seen.sum() / outlines.area[i]), 4),
            x0=math.floor(box[0] * scale), y0=math.floor(box[1] * scale),
            x1=math.ceil(box[2] * scale), y1=math.ceil(box[3] * scale)))
    return found


def frame_tagger(record, road, pixels_per_metre=None, reduce=bg.WORK_REDUCE):
    """The tagger of one camera's frames, ``(pixels, scale) -> [Detection]``,
    from what the job learned of the camera (its CameraGeometry record) and
    its empty road (at the working size, 1/``reduce`` of the full): this
    module's for a camera that looks along the road, the constant-scale
    tagger (``background``) at the camera's learned scale, or at
    ``pixels_per_metre`` where none was learned, for one straight above it or
    whose frame is not its road's size.  Built once per camera and worker
    (the outlines take a second or two)."""
    model = camera_of(record, reduce)
    view = None if model is None else perspective_camera(model, road, record.lane_centres_m)
    metres = tagging_scale(record, pixels_per_metre)

    def tag(pixels, scale):
        if view is not None and pixels.shape == road.shape:
            return find_vehicles(pixels, road, view, scale)
        return bg.find_vehicles(pixels, road, scale, metres)
    return tag
