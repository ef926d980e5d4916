"""Every vehicle the road can hold, as one camera sees it.

With a camera's ``CameraModel`` the outline of a vehicle standing anywhere on
the road is known before any frame is looked at: the projection of the
vehicle at its physical size (``camera_model.SIZES_M``), standing on the road
and running along it - a box, or for a car a body up to its beltline under a
cabin shorter than the car, for a motorcycle the machine and its rider
(``parts``: the space over a car's bonnet and boot is the road, or the next
car of a queue).  ``silhouettes`` lays such vehicles
of every type on a grid of road positions - about one searched pixel apart
wherever vehicles are small, coarser where they are large - and rasterises
each outline (in each pixel row, between the extreme crossings of the row
with its parts' projected edges) as row spans, so the number of
foreground pixels under every outline of a frame is a handful of array
operations (``span_sums``).  It depends on the camera only: built once per
camera and worker.
"""

import dataclasses
import itertools

import numpy as np

from traffic import camera_model as cm
from traffic import lanes
from traffic.evaluation import iou_matrix

KINDS = ("car", "motorcycle", "bus", "truck", "long truck")
SMALL_KINDS = (0, 1)  # indices of the kinds a long outline could be several of
LONG_KINDS = tuple(k for k in range(len(KINDS)) if k not in SMALL_KINDS)  # a bus's or a truck's
# Farther than a car this small (searched pixels), no outlines.  (Set on
# the half-size draft; on the full-size frame, 3 rather than 6 - 6 is
# where the draft's 3 stopped - found 0.8-2.1 points more of the
# vehicles, mostly far trucks, on tuning seeds 101-106 at -0.7..+0.6
# points of precision; on fresh seeds 211-213 +0.9..+2.3 / +0.3..+0.7.)
MIN_CAR_PX = 3.0
ROAD_MARGIN_M = 1.0  # beyond the outermost markings a vehicle can still stand
SPANS_PER_CHUNK = 100_000
# Everyday car proportions (a saloon, hatchback or SUV), not any renderer's:
# the side windows start at about 0.6 of the height, and the cabin at that
# height covers about 0.55 of the length, the bonnet and boot the rest.
CAR_BELTLINE = 0.6
CAR_CABIN = 0.55
# A motorcycle: the machine up to its handlebars, and its rider above the
# seat, about 0.7 m long and 0.6 m wide, up to the full height.
MOTORCYCLE_MACHINE_M = 1.0
RIDER_M = (0.7, 0.6)
# The outline of a convex body's projection is made of projected edges of
# the body: a box's 12 (corners i and j differ in one of the bits dx, dy, dz).
_EDGES = np.array([(i, j) for i, j in itertools.combinations(range(8), 2)
                   if bin(i ^ j).count("1") == 1])


@dataclasses.dataclass(frozen=True)
class Silhouettes:
    """N outlines: their kind (index into KINDS), image box (x0, y0, x1, y1,
    float and exclusive), the same in whole pixels clipped to the frame,
    the road point the vehicle is centred at (metres across and along the
    road), area (pixels inside the frame), whether the frame cuts the box,
    and row spans (row, first column, end column), ordered by outline,
    outline i's being ``start[i]:start[i + 1]``; the camera model they
    were projected with; and for the cars, the row spans of their cabins
    above the beltline and of their roofs (``glass``)."""
    kind: np.ndarray
    box: np.ndarray
    pixel_box: np.ndarray
    across: np.ndarray
    depth: np.ndarray
    area: np.ndarray
    cut: np.ndarray
    start: np.ndarray
    rows: np.ndarray
    left: np.ndarray
    right: np.ndarray
    model: cm.CameraModel
    shape: tuple  # (H, W) of the frames
    cabins: "SpanSet" = None
    roofs: "SpanSet" = None
    # derived: the spans' ends in a flattened row_prefix (_flatten_spans)
    left_at: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)
    right_at: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        _flatten_spans(self, self.shape[1])

    def __len__(self):
        return len(self.kind)

    def spans(self, index):
        """Positions of the spans of outlines ``index`` (an array), in order."""
        return multi_arange(self.start[index], self.start[index + 1])

    def counts(self, prefix, index):
        """Pixels of ``row_prefix``'s mask inside each of outlines ``index``."""
        return self.counts_each((prefix,), index)[0]

    def counts_each(self, prefixes, index):
        """``counts`` of each of several ``row_prefix``es, the spans of
        outlines ``index`` gathered once."""
        spans = self.spans(index)
        owner = _owners(self.start[index + 1] - self.start[index])
        return [np.bincount(owner, weights=span_sums(p, self, spans), minlength=len(index))
                for p in prefixes]

    def neighbours(self, i, overlap, kinds=None):
        """The outlines of outline i's kind, or of ``kinds`` (indices into
        KINDS, ascending), whose boxes overlap its box by at least
        ``overlap`` (IoU), in order."""
        near = []
        for kind in (self.kind[i],) if kinds is None else kinds:
            # the outlines are laid out kind after kind
            first, end = np.searchsorted(self.kind, [kind, kind + 1])
            near.append(first + np.nonzero(iou_at_least(self.pixel_box[i], self.pixel_box[first:end],
                                                        overlap))[0])
        return np.concatenate(near)

    def sums(self, index, per_span):
        """Sums, for each of outlines ``index``, of ``per_span`` (a value
        for each span of ``spans(index)``, in order)."""
        return _by_outline(self.start[index + 1] - self.start[index], per_span)

    def pixels(self, i):
        """(rows, columns) of outline i's pixels, row by row: an index into
        a frame."""
        spans = slice(self.start[i], self.start[i + 1])
        return _span_pixels(self.rows[spans], self.left[spans], self.right[spans])

    def side_band(self, i, low, high, middle):
        """(rows, columns) of the pixels of outline i's vehicle's side that
        is turned to the camera, between ``low`` and ``high`` metres above
        the road, over the ``middle`` share of its length; none where the
        camera is above the vehicle's width (it sees neither side)."""
        length, width, _ = cm.SIZES_M[KINDS[self.kind[i]]]
        x, y = self.across[i], self.depth[i]
        if abs(x) <= width / 2:
            return _NO_PIXELS
        face = x - width / 2 if x > 0 else x + width / 2
        # a box of no width: its edges across the road have no length
        return self._face_pixels(face, y, (middle * length, 0.0, high - low), low)

    def end_band(self, i, low, high, middle):
        """(rows, columns) of the pixels of outline i's vehicle's end that
        is turned to the camera (the nearer: its rear going away, its front
        coming), between ``low`` and ``high`` metres above the road, over
        the ``middle`` share of its width."""
        length, width, _ = cm.SIZES_M[KINDS[self.kind[i]]]
        # a box of no length: the plane of the vehicle's nearer end
        return self._face_pixels(self.across[i], self.depth[i] - length / 2,
                                 (0.0, middle * width, high - low), low)

    def body_pixels(self, i, near, far, height=None):
        """(rows, columns) of the pixels of outline i's kind of vehicle, at
        its place across the road, between ``near`` and ``far`` metres along
        the road (of its whole width, and of its kind's height or
        ``height`` metres)."""
        _, width, full = cm.SIZES_M[KINDS[self.kind[i]]]
        height = full if height is None else height
        return self._face_pixels(self.across[i], (near + far) / 2, (far - near, width, height), 0.0)

    def _face_pixels(self, x, y, size, base):
        """(rows, columns) of the pixels of a box (length, width, height;
        flat where one of the first two is 0) centred on road point (x, y),
        from ``base`` metres up; none where it is not in front of the
        camera."""
        uv, ahead = _project_boxes(self.model, np.array([x]), np.array([y]), (size,), base=base)
        if not ahead[0]:
            return _NO_PIXELS
        uv = uv[:, 0]
        box = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
        return _span_pixels(*_spans(uv, box, self.shape)[1:])

    def glass(self, index, prefix):
        """For car outlines ``index``: (pixels of ``row_prefix``'s mask in
        the glass of the car's cabin as the camera sees it, that glass's
        area): the cabin above the beltline (side and end windows, the
        windscreen or rear window) less its roof."""
        return (self.cabins.counts(prefix, index) - self.roofs.counts(prefix, index),
                self.cabins.area[index] - self.roofs.area[index])


@dataclasses.dataclass(frozen=True)
class SpanSet:
    """Row spans of one part of some of the outlines: outline i's are
    ``start[at[i]]:start[at[i] + 1]`` (``at`` -1 where it has none), and
    the part's area (pixels; 0 where it has none)."""
    at: np.ndarray
    start: np.ndarray
    rows: np.ndarray
    left: np.ndarray
    right: np.ndarray
    area: np.ndarray
    width: int  # of the frames
    left_at: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)  # as Silhouettes'
    right_at: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        _flatten_spans(self, self.width)

    def counts(self, prefix, index):
        """Pixels of ``row_prefix``'s mask in the part of each of outlines
        ``index``."""
        at = self.at[index]
        spans = multi_arange(self.start[at], self.start[at + 1])
        return _by_outline(self.start[at + 1] - self.start[at], span_sums(prefix, self, spans))


def _owners(lengths):
    """For consecutive runs of ``lengths`` spans, each span's run."""
    return np.repeat(np.arange(len(lengths)), lengths)


def _by_outline(lengths, per_span):
    """Sums of ``per_span`` over consecutive runs of ``lengths`` spans: one
    per outline."""
    return np.bincount(_owners(lengths), weights=per_span, minlength=len(lengths))


def _car_glass(model, kind, across, depth, shape):
    """SpanSets of the cars' cabins above the beltline and of their roofs
    (their difference is the glass the camera sees)."""
    length, width, height = cm.SIZES_M["car"]
    cars = np.nonzero(kind == KINDS.index("car"))[0]
    at = np.full(len(kind), -1)
    at[cars] = np.arange(len(cars))
    out = []
    for size, base in (((length * CAR_CABIN, width, height * (1 - CAR_BELTLINE)), height * CAR_BELTLINE),
                       ((length * CAR_CABIN, width, 0.0), height)):
        uv, _ = _project_boxes(model, across[cars], depth[cars], (size,), base=base)
        flat = uv[:, 0]
        box = np.concatenate([flat.min(axis=1), flat.max(axis=1)], axis=1)
        owner, rows, left, right = _chunked_spans(uv, box, shape)
        area = np.zeros(len(kind))
        area[cars] = np.bincount(owner, weights=right - left, minlength=len(cars))
        out.append(SpanSet(at, np.searchsorted(owner, np.arange(len(cars) + 1)), rows, left, right, area,
                           shape[1]))
    return out


def overlapping(boxes, x0, y0, x1, y1):
    """Which of ``boxes`` (x0, y0, x1, y1; ends exclusive) overlap that box."""
    return (boxes[:, 0] < x1) & (boxes[:, 2] > x0) & (boxes[:, 1] < y1) & (boxes[:, 3] > y0)


def iou_at_least(box, boxes, threshold):
    """Which of ``boxes`` overlap ``box`` by at least ``threshold`` (IoU,
    above 0): the IoU taken only for the boxes that overlap it at all (a
    few of a camera's thousands of outlines; settling and the search ask
    this for every vehicle)."""
    out = overlapping(boxes, *box)
    at = np.nonzero(out)[0]
    out[at] = iou_matrix(box, boxes[at])[0] >= threshold
    return out


def _span_pixels(rows, left, right):
    """(rows, columns) of the pixels of row spans: an index into a frame."""
    return np.repeat(rows, right - left), multi_arange(left, right)


_NO_PIXELS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def multi_arange(starts, stops):
    """np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)]),
    without the Python loop."""
    starts, stops = np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64)
    counts = np.maximum(stops - starts, 0)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)


def row_prefix(mask):
    """Per-row running counts of a boolean image, (H, W + 1)."""
    out = np.zeros((mask.shape[0], mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=out[:, 1:])
    return out


def _flatten_spans(spans, width):
    """Set a Silhouettes' or SpanSet's ``left_at`` and ``right_at``: where
    its spans' ends are in a flattened ``row_prefix`` of frames ``width``
    wide (one gather per end, not two)."""
    start = spans.rows.astype(np.int64) * (width + 1)
    object.__setattr__(spans, "left_at", start + spans.left)
    object.__setattr__(spans, "right_at", start + spans.right)


def refresh_rows(prefix, rows, y0):
    """Bring a mask's ``row_prefix`` up to date after the mask changed in
    rows y0 to y0 + len(rows) only: ``rows`` are its new rows there."""
    np.cumsum(rows, axis=1, out=prefix[y0:y0 + len(rows), 1:])


def span_sums(prefix, sil, spans):
    """Pixels of ``row_prefix``'s mask inside each span of ``spans`` (of a
    Silhouettes or a SpanSet)."""
    flat = prefix.ravel()
    return flat[sil.right_at[spans]] - flat[sil.left_at[spans]]


def _anchors(model, shape, x_range, lane_centres=()):
    """Road points (X, Y) about one searched pixel apart where a car is
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


def parts(kind):
    """The boxes a vehicle of ``kind`` is made of, (length, width, height)
    in metres, each standing on the road and centred on the vehicle: a car's
    body to its beltline and its cabin; a motorcycle and its rider; one box
    for the others."""
    length, width, height = cm.SIZES_M[kind]
    if kind == "car":
        return ((length, width, height * CAR_BELTLINE), (length * CAR_CABIN, width, height))
    if kind == "motorcycle":
        return ((length, width, MOTORCYCLE_MACHINE_M), (*RIDER_M, height))
    return ((length, width, height),)


def _project_boxes(model, x, y, boxes, base=0.0):
    """Projected corners (N, P, 8, 2) of P ``boxes`` (length, width,
    height) from ``base`` metres above the road up, centred at road points
    (x, y), and which of them are wholly in front of the camera."""
    offsets = np.array([[dx, dy, dz] for length, width, height in boxes
                        for dx in (-width / 2, width / 2)
                        for dy in (-length / 2, length / 2) for dz in (base, base + height)])
    corners = np.stack([x, y, np.zeros_like(x)], axis=-1)[:, None] + offsets[None]
    uv, depth = model.project(corners.reshape(-1, 3))
    return uv.reshape(-1, len(boxes), 8, 2), depth.reshape(-1, 8 * len(boxes)).min(axis=1) > 0.5


def _outlines(model, x, y, kind):
    """For vehicles of ``kind`` centred at road points (x, y): the projected
    corners (N, P, 8, 2) of their P ``parts``, their image boxes (N, 4: the
    projection of the whole vehicle's length, width and height, as the
    tagger reports it) and which of them are wholly in front of the camera."""
    uv, ahead = _project_boxes(model, x, y, parts(kind))
    whole, whole_ahead = (uv, ahead) if uv.shape[1] == 1 else _project_boxes(
        model, x, y, (cm.SIZES_M[kind],))
    flat = whole.reshape(len(whole), -1, 2)
    return uv, np.concatenate([flat.min(axis=1), flat.max(axis=1)], axis=1), ahead & whole_ahead


def _chunked_spans(uv, box, shape):
    """``_merged_spans`` of outlines (corners (N, P, 8, 2)), a chunk of
    them at a time: the crossings take about 1 KB per span and part while
    computed."""
    heights = np.clip(np.ceil(box[:, 3]) - np.floor(box[:, 1]), 0, shape[0]) * uv.shape[1]
    bounds = np.searchsorted(np.cumsum(heights), np.arange(0, heights.sum(), SPANS_PER_CHUNK))
    bounds = np.unique(np.r_[bounds, len(box)])
    found = [(a, _merged_spans(uv[a:b], box[a:b], shape)) for a, b in zip(np.r_[0, bounds[:-1]], bounds)]
    return (np.concatenate([f[0] + a for a, f in found]),
            *(np.concatenate([f[k] for _, f in found]) for k in (1, 2, 3)))


def _merged_spans(uv, box, shape):
    """``_spans`` of outlines made of several parts (corners (N, P, 8, 2)):
    in each row, from the leftmost to the rightmost column any part covers
    (the parts stand on one another, so their spans meet)."""
    found = [_spans(uv[:, p], box, shape) for p in range(uv.shape[1])]
    owner, rows, left, right = (np.concatenate([f[k] for f in found]) for k in range(4))
    if len(found) == 1 or len(owner) == 0:
        return owner, rows, left, right
    order = np.lexsort((rows, owner))
    owner, rows, left, right = owner[order], rows[order], left[order], right[order]
    first = np.nonzero(np.r_[True, (owner[1:] != owner[:-1]) | (rows[1:] != rows[:-1])])[0]
    return (owner[first], rows[first], np.minimum.reduceat(left, first),
            np.maximum.reduceat(right, first))


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
    kinds, boxes, acrosses, depths, spans, offset = [], [], [], [], [], 0
    for k, kind in enumerate(KINDS):
        uv, box, ahead = _outlines(model, x, y, kind)
        uv, box, across, depth = uv[ahead], box[ahead], x[ahead], y[ahead]
        seen = ((box[:, 2] > 0) & (box[:, 0] < w) & (box[:, 3] > 0) & (box[:, 1] < h)
                & (np.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) >= 2))
        uv, box = uv[seen], box[seen]
        kinds.append(np.full(len(box), k))
        boxes.append(box)
        acrosses.append(across[seen])
        depths.append(depth[seen])
        owner, rows, left, right = _chunked_spans(uv, box, shape)
        spans.append((owner + offset, rows, left, right))
        offset += len(box)
    kind, box = np.concatenate(kinds), np.concatenate(boxes)
    cabins, roofs = _car_glass(model, kind, np.concatenate(acrosses), np.concatenate(depths), (h, w))
    owner, rows, left, right = (np.concatenate([p[k] for p in spans]) for k in range(4))
    n = len(kind)
    pixel_box = np.stack([np.clip(np.ceil(box[:, 0] - 0.5), 0, w), np.clip(np.ceil(box[:, 1] - 0.5), 0, h),
                          np.clip(np.floor(box[:, 2] - 0.5) + 1, 0, w),
                          np.clip(np.floor(box[:, 3] - 0.5) + 1, 0, h)], axis=1).astype(np.int64)
    return Silhouettes(
        kind=kind, box=box, pixel_box=pixel_box, across=np.concatenate(acrosses),
        depth=np.concatenate(depths),
        area=np.bincount(owner, weights=right - left, minlength=n),
        cut=(box[:, 0] < 0) | (box[:, 1] < 0) | (box[:, 2] > w) | (box[:, 3] > h),
        start=np.searchsorted(owner, np.arange(n + 1)), rows=rows, left=left, right=right,
        model=model, shape=(h, w), cabins=cabins, roofs=roofs)
