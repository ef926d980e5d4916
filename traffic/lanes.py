"""Where a camera's lanes are, from its own lane markings.

Vehicles on a highway drive in lanes, near a lane's middle, and lanes lie
between lane markings one lane width (``markings.LANE_WIDTH_M``) apart.
Seen through the camera's model (``traffic.camera_model``), the marking
pixels of its empty road fall, across the road, on a few lines; two lines
a lane width apart bound a lane, and two lines two lane widths apart with
none between them two lanes (the line between them worn away).  Lines that
pair with none (a trace of dense traffic on the empty road, a median's
edge) bound no lane.  Where the camera model is wrong (its scale a few
times the truth), so are such lanes: they are kept only where the traffic
of the camera's own sample frames drives in them (``learn_lanes``).  Where
the markings bound no lane the traffic drives in, the lanes are the peaks
of where that traffic stands across the road, between the road's edge
lines (``traffic_lanes``): vehicles drive in their lanes' middles.

The tagger then looks for vehicles only near the lanes' middles
(``IN_LANE_M``, ``traffic.silhouettes``), which rules out the outlines that
straddle two lanes and cover halves of two vehicles.  Distances are in the
camera model's metres, so an error in its scale moves the lanes and the
outlines alike.
"""

import numpy as np
from scipy import ndimage

from traffic import markings

MIN_MARKING_PIXELS = 30
LINE_BIN_M = 0.1
LINE_SMOOTH_BINS = 1.5
MIN_LINE_SHARE = 0.15  # of the strongest line's marking pixels
LINE_MERGE_M = 1.0  # peaks closer than this are one line
PAIR_TOLERANCE = 0.2  # of a lane width: how far two lines' spacing may be from it
# A vehicle's centre is this close to its lane's middle: a 1.8 m car in a
# 3.6 m lane has 0.9 m to either side of it.
IN_LANE_M = 0.6
MIN_BLOBS = 10
TRAFFIC_BIN_M = 0.2  # where the traffic stands across the road, in bins this wide
TRAFFIC_LANE_APART = 0.7  # lane widths: nearer peaks of the traffic are one lane
MIN_IN_LANES = 0.8  # of the sample frames' isolated blobs on the road


def marking_offsets(road, model):
    """Road X (metres across the road) of the marking pixels of the nearer
    half of the camera's marked road, or None without enough markings."""
    rows, cols = markings.marking_pixels(road)
    if len(rows) < MIN_MARKING_PIXELS:
        return None
    x, y = model.ground_points(cols + 0.5, rows + 0.5)
    seen = ~np.isnan(x)
    if seen.sum() < MIN_MARKING_PIXELS:
        return None
    x, y = x[seen], y[seen]
    return x[y <= np.median(y)]


def road_extent(offsets):
    """(leftmost, rightmost) road X (metres) of ``marking_offsets``, or
    None without them."""
    if offsets is None:
        return None
    return float(np.percentile(offsets, 2)), float(np.percentile(offsets, 98))


def marking_lines(offsets):
    """Road X (metres, ascending) of the lines the marking pixels fall on:
    the peaks of their histogram across the road."""
    if offsets is None or len(offsets) == 0:
        return []
    lo, hi = np.percentile(offsets, 1) - 1.0, np.percentile(offsets, 99) + 1.0
    return _peaks(offsets, np.arange(lo, hi + LINE_BIN_M, LINE_BIN_M), LINE_MERGE_M)


def _peaks(x, bins, merge):
    """Road X (metres, ascending) of the peaks of a histogram of road X
    ``x`` over ``bins`` (edges), smoothed: each at least MIN_LINE_SHARE of
    the strongest, peaks closer than ``merge`` metres one (the stronger)."""
    hist, edges = np.histogram(x, bins)
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), LINE_SMOOTH_BINS)
    floor = MIN_LINE_SHARE * smooth.max()
    peaks = []  # (x, strength)
    for i in range(1, len(smooth) - 1):
        if not (smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1] and smooth[i] >= floor):
            continue
        at = (edges[i] + edges[i + 1]) / 2
        if peaks and at - peaks[-1][0] < merge:
            if smooth[i] > peaks[-1][1]:
                peaks[-1] = (at, smooth[i])
            continue
        peaks.append((at, smooth[i]))
    return [float(at) for at, _ in peaks]


def lane_centres(lines):
    """Road X (metres, ascending) of the middles of the lanes that
    ``lines`` bound: two lines a lane width apart bound a lane, two lines
    two lane widths apart with none between them two lanes (where no lane
    found so bounds them)."""
    lane_width = markings.LANE_WIDTH_M
    tolerance = PAIR_TOLERANCE * lane_width
    pairs = [(a, b) for i, a in enumerate(lines) for b in lines[i + 1:]]
    out = [(a + b) / 2 for a, b in pairs if abs(b - a - lane_width) <= tolerance]
    for a, b in pairs:
        between = any(a < c < b for c in lines)
        if not between and abs(b - a - 2 * lane_width) <= tolerance:
            for c in (a + (b - a) / 4, a + 3 * (b - a) / 4):
                if all(abs(c - o) > lane_width / 2 for o in out):
                    out.append(c)
    return sorted(out)


def lane_distance(x, centres):
    """How far each road X (array) is from the nearest of ``centres``."""
    x = np.asarray(x, dtype=np.float64)
    return np.min(np.abs(x[..., None] - np.asarray(centres, dtype=np.float64)), axis=-1)


def near_a_lane(x, centres, within=IN_LANE_M):
    """Which road X (array) lie within ``within`` of a lane's middle; all of
    them where no lane is known."""
    if not centres:
        return np.ones(np.shape(x), dtype=bool)
    return lane_distance(x, centres) <= within


def blob_offsets(model, blobs, extent):
    """Road X (metres) of ``blobs`` ((u, v, width, height), working size:
    the middle of their lowest row first) that stand on the road ``extent``."""
    if not blobs or extent is None:
        return np.zeros(0)
    u, v = np.array([b[0] for b in blobs]), np.array([b[1] for b in blobs])
    x, _ = model.ground_points(u, v)
    return x[~np.isnan(x) & (x >= extent[0]) & (x <= extent[1])]


def traffic_in_lanes(centres, x):
    """Does the traffic standing at road X ``x`` drive in the lanes whose
    middles are ``centres``?  At least MIN_BLOBS of it, MIN_IN_LANES of it
    within a lane (half a lane width of a middle), and nearer the lanes'
    middles on average than to middles half a lane away: where the
    markings' lines are really the lanes' middles (traces of dense traffic
    on the empty road can make bright lines there too), the traffic drives
    on the lanes found."""
    if not centres or len(x) < MIN_BLOBS:
        return False
    half = markings.LANE_WIDTH_M / 2
    here = lane_distance(x, centres)
    shifted = lane_distance(x, np.asarray(centres) + half)
    return bool((here <= half).mean() >= MIN_IN_LANES and here.mean() < shifted.mean())


def traffic_lanes(x, lines):
    """Road X (metres, ascending) of the middles of the lanes the traffic
    standing at road X ``x`` drives in, between the outermost of the
    markings' ``lines`` (the road's edges): the peaks of where it stands
    across the road, at least ``TRAFFIC_LANE_APART`` lane widths apart and
    each with ``MIN_LINE_SHARE`` of the strongest's traffic; empty with
    fewer than two lines or MIN_BLOBS of such traffic, or where the peaks
    do not hold the traffic (``traffic_in_lanes``).  Traffic beyond the
    edge lines (a vehicle's shadow on the verge, left as a blob) is not
    the road's."""
    if len(lines) < 2:
        return []
    x = np.asarray(x, dtype=np.float64)
    x = x[(x >= lines[0]) & (x <= lines[-1])]
    if len(x) < MIN_BLOBS:
        return []
    centres = _peaks(x, np.arange(lines[0], lines[-1] + TRAFFIC_BIN_M, TRAFFIC_BIN_M),
                     TRAFFIC_LANE_APART * markings.LANE_WIDTH_M)
    # where a lane's traffic made no peak of its own (too little of it, or a
    # camera model far from the truth), those lanes would shut it out
    return centres if traffic_in_lanes(centres, x) else []


def learn_lanes(road, model, blobs):
    """Road X (metres, ascending) of the middles of the camera's lanes, from
    its empty road's markings (working size) seen through ``model``, where
    the traffic of the sample frames (``blobs``, as
    ``perspective.evidence.isolated_blobs`` gives them) drives in them
    (``traffic_in_lanes``).  Where the markings bound no lanes it drives in
    (a line worn away, a median wider than a lane between two lines, lines
    hidden by traffic in the empty road), the lanes are where that traffic
    drives between the road's edge lines (``traffic_lanes``).  Empty where
    neither finds any."""
    offsets = marking_offsets(road, model)
    lines = marking_lines(offsets)
    centres = lane_centres(lines)
    x = blob_offsets(model, blobs, road_extent(offsets))
    if not traffic_in_lanes(centres, x):
        centres = traffic_lanes(x, lines)
    return [round(c, 3) for c in centres]
