"""Every vehicle the road can hold, as one camera sees it.

With a camera's ``CameraModel`` the outline of a vehicle standing anywhere on
the road is known before any frame is looked at: the projection of a box of
the vehicle's physical size (``camera_model.SIZES_M``), standing on the road
and running along it.  ``silhouettes`` lays such vehicles of every type on a
grid of road positions - about one working pixel apart wherever vehicles are
small, coarser where they are large - and rasterises each outline (the convex
hull of its eight projected corners) as row spans, so the number of
foreground pixels under every outline of a frame is a handful of array
operations (``span_sums``).  It depends on the camera only: built once per
camera and worker.
"""

import dataclasses
import itertools
import math

import numpy as np

from traffic import camera_model as cm
from traffic import lanes

KINDS = ("car", "motorcycle", "bus", "truck", "long truck")
SMALL_KINDS = (0, 1)  # indices of the kinds a long outline could be several of
MIN_CAR_PX = 3.0  # working pixels: farther than a car this small, no outlines
ROAD_MARGIN_M = 1.0  # beyond the outermost markings a vehicle can still stand
SPANS_PER_CHUNK = 100_000
# The outline of a convex body's projection is made of projected edges of
# the body: a box's 12 (corners i and j differ in one of the bits dx, dy, dz).
_EDGES = np.array([(i, j) for i, j in itertools.combinations(range(8), 2)
                   if bin(i ^ j).count("1") == 1])


@dataclasses.dataclass(frozen=True)
class Silhouettes:
    """N outlines: their kind (index into KINDS), image box (x0, y0, x1, y1,
    float and exclusive), the same in whole pixels clipped to the frame,
    distance along the road (metres), area (pixels inside the frame), whether
    the frame cuts the box, and row spans (row, first column, end column),
    ordered by outline, outline i's being ``start[i]:start[i + 1]``."""
    kind: np.ndarray
    box: np.ndarray
    pixel_box: np.ndarray
    depth: np.ndarray
    area: np.ndarray
    cut: np.ndarray
    start: np.ndarray
    rows: np.ndarray
    left: np.ndarray
    right: np.ndarray

    def __len__(self):
        return len(self.kind)

    def spans(self, index):
        """Positions of the spans of outlines ``index`` (an array), in order."""
        return multi_arange(self.start[index], self.start[index + 1])

    def counts(self, prefix, index):
        """Pixels of ``row_prefix``'s mask inside each of outlines ``index``."""
        return self.sums(index, span_sums(prefix, self, self.spans(index)))

    def sums(self, index, per_span):
        """Sums, for each of outlines ``index``, of ``per_span`` (a value
        for each span of ``spans(index)``, in order)."""
        owner = np.repeat(np.arange(len(index)), self.start[index + 1] - self.start[index])
        return np.bincount(owner, weights=per_span, minlength=len(index))

    def pixels(self, i):
        """(rows, columns) of outline i's pixels, row by row: an index into
        a frame."""
        spans = slice(self.start[i], self.start[i + 1])
        left, right = self.left[spans], self.right[spans]
        rows = np.repeat(self.rows[spans], right - left)
        return rows, multi_arange(left, right)


def multi_arange(starts, stops):
    """np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)]),
    without the Python loop."""
    starts, stops = np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64)
    counts = np.maximum(stops - starts, 0)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    steps = np.ones(total, dtype=np.int64)
    first = ends - counts
    nonempty = counts > 0
    steps[first[nonempty]] = starts[nonempty] - np.concatenate(
        [[0], (starts + counts - 1)[nonempty][:-1]])
    return np.cumsum(steps)


def row_prefix(mask):
    """Per-row running counts of a boolean image, (H, W + 1)."""
    out = np.zeros((mask.shape[0], mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=out[:, 1:])
    return out


def span_sums(prefix, sil, spans):
    """Pixels of ``row_prefix``'s mask inside each span of ``spans``."""
    rows = sil.rows[spans]
    return prefix[rows, sil.right[spans]] - prefix[rows, sil.left[spans]]


def _anchors(model, shape, x_range, lane_centres=()):
    """Road points (X, Y) about one working pixel apart where a car is
    small, coarser where it is large; only where a car would be at least
    MIN_CAR_PX and, given ``x_range``, across the road there, and given
    ``lane_centres`` (the X of lanes' middles), near a lane's middle."""
    h, w = shape
    us, vs = [], []
    v = h - 0.5
    while v > 0:
        box = cm.vehicle_box(model, w / 2, v, "car")
        size = 0.0 if box is None else min(box[2] - box[0], box[3] - box[1])
        if size < MIN_CAR_PX:
            break
        step = float(np.clip(size / 10.0, 1.0, 4.0))
        row = np.arange(step / 2, w, step)
        us.append(row)
        vs.append(np.full(len(row), v))
        v -= step
    if not us:
        return np.zeros(0), np.zeros(0)
    x, y = model.ground_points(np.concatenate(us), np.concatenate(vs))
    ok = ~np.isnan(x)
    if x_range is not None:
        ok &= (x >= x_range[0] - ROAD_MARGIN_M) & (x <= x_range[1] + ROAD_MARGIN_M)
    ok[ok] &= lanes.near_a_lane(x[ok], list(lane_centres))
    return x[ok], y[ok]


def _outlines(model, x, y, kind):
    """Projected corners (N, 8, 2) of vehicles of ``kind`` centred at road
    points (x, y), and which of them are wholly in front of the camera."""
    length, width, height = cm.SIZES_M[kind]
    offsets = np.array([[dx, dy, dz] for dx in (-width / 2, width / 2)
                        for dy in (-length / 2, length / 2) for dz in (0.0, height)])
    corners = np.stack([x, y, np.zeros_like(x)], axis=-1)[:, None] + offsets[None]
    uv, depth = model.project(corners.reshape(-1, 3))
    return uv.reshape(-1, 8, 2), depth.reshape(-1, 8).min(axis=1) > 0.5


def _spans(uv, box, shape):
    """Row spans of the outlines of projected boxes, corners uv (N, 8, 2):
    for each pixel row an outline's box covers, the columns whose centres lie
    between the extreme crossings of that row's centre line with the box's
    projected edges (the outline's slice)."""
    h, w = shape
    r0 = np.clip(np.ceil(box[:, 1] - 0.5), 0, h).astype(np.int64)
    r1 = np.clip(np.floor(box[:, 3] - 0.5) + 1, 0, h).astype(np.int64)
    owner = np.repeat(np.arange(len(box)), np.maximum(r1 - r0, 0))
    rows = multi_arange(r0, r1)
    centre = rows + 0.5
    a, b = uv[owner][:, _EDGES[:, 0]], uv[owner][:, _EDGES[:, 1]]
    ya, yb = a[..., 1], b[..., 1]
    flat = ya == yb
    crosses = ((ya - centre[:, None]) * (yb - centre[:, None]) <= 0) & ~flat
    t = np.where(flat, 0.0, (centre[:, None] - ya) / np.where(flat, 1.0, yb - ya))
    x = a[..., 0] + t * (b[..., 0] - a[..., 0])
    with np.errstate(invalid="ignore"):
        lo = np.where(crosses, x, np.inf).min(axis=1)
        hi = np.where(crosses, x, -np.inf).max(axis=1)
        left = np.clip(np.ceil(lo - 0.5), 0, w)
        right = np.clip(np.floor(hi - 0.5) + 1, 0, w)
    keep = np.isfinite(lo) & (right > left)
    return owner[keep], rows[keep].astype(np.int32), left[keep].astype(np.int32), right[keep].astype(np.int32)


def silhouettes(model, shape, x_range=None, lane_centres=()):
    """The Silhouettes of every kind of vehicle on the road seen by
    ``model`` in frames of ``shape`` (H, W); ``x_range`` (metres across the
    road) limits them to the road, and ``lane_centres`` (the X of lanes'
    middles, ``traffic.lanes``) to vehicles driving in a lane."""
    h, w = shape
    x, y = _anchors(model, shape, x_range, lane_centres)
    parts = []
    for k, kind in enumerate(KINDS):
        uv, ahead = _outlines(model, x, y, kind)
        uv, depth = uv[ahead], y[ahead]
        box = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
        seen = ((box[:, 2] > 0) & (box[:, 0] < w) & (box[:, 3] > 0) & (box[:, 1] < h)
                & (np.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) >= 2))
        parts.append((np.full(int(seen.sum()), k), uv[seen], box[seen], depth[seen]))
    kind = np.concatenate([p[0] for p in parts])
    uv = np.concatenate([p[1] for p in parts])
    box = np.concatenate([p[2] for p in parts])
    # in chunks: the crossings take about 1 KB per span while computed
    heights = np.clip(np.ceil(box[:, 3]) - np.floor(box[:, 1]), 0, h)
    bounds = np.searchsorted(np.cumsum(heights), np.arange(0, heights.sum(), SPANS_PER_CHUNK))
    bounds = np.unique(np.r_[bounds, len(box)])
    chunks = [(_spans(uv[a:b], box[a:b], shape), a) for a, b in zip(np.r_[0, bounds[:-1]], bounds)]
    owner = np.concatenate([spans[0] + a for spans, a in chunks])
    rows, left, right = (np.concatenate([spans[k] for spans, _ in chunks]) for k in (1, 2, 3))
    n = len(kind)
    pixel_box = np.stack([np.clip(np.ceil(box[:, 0] - 0.5), 0, w), np.clip(np.ceil(box[:, 1] - 0.5), 0, h),
                          np.clip(np.floor(box[:, 2] - 0.5) + 1, 0, w),
                          np.clip(np.floor(box[:, 3] - 0.5) + 1, 0, h)], axis=1).astype(np.int64)
    return Silhouettes(
        kind=kind, box=box, pixel_box=pixel_box, depth=np.concatenate([p[3] for p in parts]),
        area=np.bincount(owner, weights=right - left, minlength=n),
        cut=(box[:, 0] < 0) | (box[:, 1] < 0) | (box[:, 2] > w) | (box[:, 3] > h),
        start=np.searchsorted(owner, np.arange(n + 1)), rows=rows, left=left, right=right)
