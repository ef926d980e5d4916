"""What a fixed camera's empty road shows of its geometry: its lane markings.

Road markings are painted on every highway: long, thin, bright lines along
the road, one lane width apart.  On the camera's estimated empty road
(``traffic.background``) this finds them (bright thin ridges, then a Hough
transform), takes the point they converge to (the road's vanishing point; at
infinity for a camera straight above the road, where they are parallel), and
from their spacing the scale across the road.  Lane width is the one
physical constant used (``LANE_WIDTH_M``: 3.5-3.75 m on highways).

The result, ``RoadGeometry``, gives at any image point the road's direction
(towards the vanishing point) and the scale across the road, in pixels per
metre measured square to the road's direction in the image.  For a pinhole
camera over a flat road that scale is proportional to the distance from the
vanishing point (``scale = k * distance``), or constant when the lines are
parallel.  The markings tell the scale up to a whole ratio; the traffic of
the camera's own sample frames settles it (``traffic.calibration``).
"""

import dataclasses
import math

import numpy as np
from scipy import ndimage

LANE_WIDTH_M = 3.6
RIDGE_MIN = 12  # grey levels a marking stands above the road beside it
MIN_LINE_PX = 18  # votes (marking pixels) a line needs
LINE_PX = 1.5  # how far from a line its marking pixels lie
# A dashed line is about a quarter painted: its peak among the markings'
# positions is a fraction of a solid edge line's, and still a marking (in
# perspective taken as a peak of its own only where the solid lines alone
# would leave two peaks; elsewhere it confirms a place in a chain of
# stronger markings: ``comb_spacing``).
DASHED_PEAK = 0.15
MAX_LINES = 14
VP_TOLERANCE_DEG = 2.0
MAX_PEAKS = 24
PERSPECTIVE_REACH = 3.0


@dataclasses.dataclass(frozen=True)
class RoadGeometry:
    vanishing_point: tuple | None  # (u, v) in working pixels, None when at infinity
    direction_deg: float  # road direction at the image centre (atan2 of dv, du; 0..180)
    k: float  # scale = k * (v - v_vp) * sin(road angle): perspective
    scale: float  # the scale everywhere (lines parallel), or at the image centre
    lines: int  # marking lines the estimate rests on
    width: int
    height: int

    def direction_at(self, u, v):
        """Unit image vector(s) along the road at (u, v)."""
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        if self.vanishing_point is None:
            a = math.radians(self.direction_deg)
            return np.broadcast_to(np.array([math.cos(a), math.sin(a)]),
                                   np.broadcast(u, v).shape + (2,)).copy()
        d = np.stack([self.vanishing_point[0] - u, self.vanishing_point[1] - v], axis=-1)
        return d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)

    def scale_at(self, u, v):
        """Pixels per metre across the road at (u, v)."""
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        if self.vanishing_point is None:
            return np.full(np.broadcast(u, v).shape, self.scale)
        du, dv = u - self.vanishing_point[0], v - self.vanishing_point[1]
        # along the row: (v - v_vp) * k metres apart; square to the road: times sin
        return self.k * dv * dv / np.maximum(np.hypot(du, dv), 1e-9)


def luminance(rgb):
    return np.asarray(rgb, dtype=np.float64) @ np.array([0.299, 0.587, 0.114])


def marking_pixels(road):
    """(row, col) of bright thin ridges: a pixel well above the road on both
    sides of it, along the row or the column (markings are 1-6 px wide)."""
    lum = ndimage.uniform_filter(luminance(road), 1.5)
    opened = ndimage.grey_opening(lum, size=(7, 7))
    ridge = (lum - opened) > RIDGE_MIN
    ridge &= lum > np.percentile(lum, 50)  # markings are among the brightest road pixels
    ridge = ndimage.binary_opening(ridge, np.ones((1, 1), bool))
    return np.nonzero(ridge)


def hough_lines(rows, cols, shape, max_lines=MAX_LINES):
    """The strongest lines through the points: [(theta, rho, votes)] with
    x*cos(theta) + y*sin(theta) = rho, theta in [0, pi).  Each point votes
    for one line only: once a line is taken, the points on it (within
    ``LINE_PX``) take back their votes, so a wide or slightly curved
    marking is one line, not a fan of near-copies whose crossings would
    outvote the road's vanishing point."""
    if len(rows) == 0:
        return []
    thetas = np.deg2rad(np.arange(0.0, 180.0, 0.5))
    cos, sin = np.cos(thetas), np.sin(thetas)
    diag = int(math.ceil(math.hypot(*shape)))
    rho = np.round(cols[:, None] * cos + rows[:, None] * sin).astype(int) + diag
    which = np.broadcast_to(np.arange(len(thetas)), rho.shape)
    acc = np.zeros((len(thetas), 2 * diag + 1), dtype=np.int32)
    np.add.at(acc, (which, rho), 1)
    unused = np.ones(len(rows), dtype=bool)
    found = []
    for _ in range(max_lines):
        t, r = np.unravel_index(acc.argmax(), acc.shape)
        votes = acc[t, r]
        if votes < MIN_LINE_PX:
            break
        found.append((float(thetas[t]), float(r - diag), int(votes)))
        on = unused & (np.abs(cols * cos[t] + rows * sin[t] - (r - diag)) <= LINE_PX)
        np.subtract.at(acc, (which[on], rho[on]), 1)
        unused &= ~on
    return found


def _homogeneous(theta, rho):
    return np.array([math.cos(theta), math.sin(theta), -rho])


def vanishing_point(lines, tolerance_deg=VP_TOLERANCE_DEG):
    """The point most lines pass through (homogeneous, (u, v, w); w ~ 0 at
    infinity) and the indices of those lines: every pair's intersection is
    tried, and the one most lines agree with (to within ``tolerance_deg`` of
    direction) wins, refined by least squares over its lines."""
    hs = [_homogeneous(t, r) for t, r, _ in lines]
    weights = [v for _, _, v in lines]
    best, best_support = None, []
    for i in range(len(hs)):
        for j in range(i + 1, len(hs)):
            p = np.cross(hs[i], hs[j])
            if not np.any(p):
                continue
            support = [k for k, h in enumerate(hs) if _agrees(h, p, tolerance_deg)]
            score = sum(weights[k] for k in support)
            if score > sum(weights[k] for k in best_support):
                best, best_support = p, support
    if best is None:
        return None, []
    a = np.array([hs[k] / np.linalg.norm(hs[k][:2]) * math.sqrt(weights[k])
                  for k in best_support])
    p = np.linalg.svd(a)[2][-1]
    return p / np.linalg.norm(p), best_support


def _agrees(line, point, tolerance_deg):
    """Does ``line`` (homogeneous) pass (nearly) through ``point``?  Measured
    as the angle between the line and the direction from the line's point
    nearest the image origin to the point."""
    n = line[:2] / np.linalg.norm(line[:2])
    foot = -line[2] / np.linalg.norm(line[:2]) * n
    direction = np.array([-n[1], n[0]])
    if abs(point[2]) < 1e-12:
        towards = point[:2]
    else:
        towards = point[:2] / point[2] - foot
    norm = np.linalg.norm(towards)
    if norm < 1e-9:
        return True
    cos = abs(float(np.dot(direction, towards / norm)))
    return cos >= math.cos(math.radians(tolerance_deg))


def _chain(peaks, start, d, weak=(), tolerance=0.1, max_misses=1):
    """Members of the evenly spaced chain through peak ``start`` with step
    ``d``, both ways; which of the ``weak`` peaks (positions, sorted) fill
    places of it no peak does; and how many markings inside it were missing
    (one in a row may be stepped over)."""
    weak = np.asarray(weak, dtype=np.float64)
    lo, hi = min([peaks[0], *weak[:1]]), max([peaks[-1], *weak[-1:]])
    members, confirmed, misses = {start}, set(), 0
    for sign in (1, -1):
        at, pending = peaks[start], 0
        while True:
            at += sign * d
            if at < lo - d / 2 or at > hi + d / 2:
                break
            for found, pool in ((members, peaks), (confirmed, weak)):
                near = np.abs(pool - at)
                k = int(near.argmin()) if len(pool) else -1
                if k >= 0 and near[k] <= tolerance * d and k not in found:
                    found.add(k)
                    at, misses, pending = pool[k], misses + pending, 0
                    break
            else:
                pending += 1
                if pending > max_misses:
                    break
    return members, confirmed, misses


def comb_spacing(values, weights=None, resolution=None, min_peak=0.25, fewer_peaks=None):
    """The spacing of the evenly spaced peaks (lane markings) among
    ``values``: the step of the strongest chains of evenly spaced peaks (one
    on each side of a median, side by side), each marking weighted by its
    strength (capped, so one solid edge line cannot outweigh a chain), so
    that stray marks, which are weaker and not evenly spaced, lose.  A peak
    needs ``min_peak`` of the strongest; where fewer than three pass (two
    solid edge lines: a road's width, not a lane's), ``fewer_peaks``.
    Otherwise a peak of ``fewer_peaks`` (a dashed line) counts only where it
    fills a place in a chain of stronger ones: it never starts a chain, so
    the faint traces vehicles leave on the far road cannot set the step."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return None
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        return None
    resolution = resolution or (hi - lo) / 400
    bins = max(8, int(math.ceil((hi - lo) / resolution)))
    hist, edges = np.histogram(values, bins=bins, range=(lo, hi), weights=weights)
    hist = ndimage.gaussian_filter1d(hist.astype(np.float64), 1.5)
    centres = (edges[:-1] + edges[1:]) / 2
    local_max = hist >= ndimage.maximum_filter1d(hist, 7)
    is_peak = local_max & (hist > min_peak * hist.max())
    is_weak = np.zeros_like(is_peak)
    if fewer_peaks is not None:
        is_weak = local_max & (hist > fewer_peaks * hist.max()) & ~is_peak
        if is_peak.sum() < 3:  # two lines cannot tell a lane from a road
            is_peak, is_weak = is_peak | is_weak, np.zeros_like(is_peak)
    peaks, strength = centres[is_peak], hist[is_peak]
    weak, weak_strength = centres[is_weak], hist[is_weak]
    if len(peaks) < 2:
        return None
    if len(peaks) > MAX_PEAKS:  # a road has a dozen markings at most: keep the strongest
        keep = np.sort(np.argsort(-strength, kind="stable")[:MAX_PEAKS])
        peaks, strength = peaks[keep], strength[keep]
    # one strong line (a solid edge line) must not outweigh a regular chain
    strength = np.minimum(strength, 1.5 * np.median(strength))
    candidates = {round(abs(peaks[j] - peaks[i]) / n / resolution) * resolution
                  for i in range(len(peaks)) for j in range(i + 1, len(peaks)) for n in (1, 2, 3)}
    best, best_score = None, -np.inf
    for d in sorted(candidates):
        if d < 6 * resolution:
            continue
        chains = []
        for start in range(len(peaks)):
            members, confirmed, misses = _chain(peaks, start, d, weak)
            if len(members) >= 2:
                chains.append((strength[list(members)].sum() + weak_strength[list(confirmed)].sum()
                               - 0.6 * strength.mean() * misses, members))
        chains.sort(key=lambda c: -c[0])
        if not chains:
            continue
        score, taken = chains[0][0], chains[0][1]
        for other, members in chains[1:]:  # the other side of a median: beside it
            if max(members) < min(taken) or min(members) > max(taken):
                score += other
                break
        if score > best_score + 1e-9:
            best, best_score = d, score
    return best


def calibrate(road, lane_width_m=LANE_WIDTH_M):
    """RoadGeometry of a camera from its empty road (uint8 RGB), or None
    where too few markings are seen to tell."""
    h, w = road.shape[:2]
    rows, cols = marking_pixels(road)
    lines = hough_lines(rows, cols, (h, w))
    if len(lines) < 2:
        return None
    p, members = vanishing_point(lines)
    if p is None or len(members) < 2:
        return None
    centre = np.array([w / 2, h / 2])
    # lines that meet further away than PERSPECTIVE_REACH image diagonals are
    # parallel as far as the frame can tell: their spacing is read as such
    at_infinity = (abs(p[2]) < 1e-9
                   or np.linalg.norm(p[:2] / p[2] - centre) > PERSPECTIVE_REACH * math.hypot(w, h))
    if at_infinity:
        direction = np.array([p[0], p[1]]) / np.linalg.norm(p[:2])
        angle = math.degrees(math.atan2(direction[1], direction[0])) % 180
        n = np.array([-direction[1], direction[0]])
        # dashed lines (a quarter painted) against solid ones over the whole frame
        spacing = comb_spacing(cols * n[0] + rows * n[1], resolution=0.25, min_peak=DASHED_PEAK)
        if spacing is None:
            return None
        return RoadGeometry(None, angle, 0.0, spacing / lane_width_m, len(members), w, h)
    vp = p[:2] / p[2]
    # Every line through the vanishing point, by its slope c = du/dv: lines
    # evenly spaced on the road are evenly spaced in c (for a camera without
    # roll), and two lines dc apart are (v - v_vp) * dc apart along a row.
    # Only the nearer part of the road: far away, where each pixel has seen
    # the most traffic, the empty-road estimate keeps traces of vehicles.
    below = rows - vp[1] >= max(12.0, 0.35 * (h - vp[1]))
    dv = rows[below] - vp[1]
    c = (cols[below] - vp[0]) / dv
    dc = comb_spacing(c, weights=dv, resolution=0.004, fewer_peaks=DASHED_PEAK)
    if dc is None:
        return None
    geometry = RoadGeometry((float(vp[0]), float(vp[1])), 0.0, dc / lane_width_m, 0.0,
                            len(members), w, h)
    d = geometry.direction_at(centre[0], centre[1])
    return dataclasses.replace(
        geometry, direction_deg=math.degrees(math.atan2(d[1], d[0])) % 180,
        scale=float(geometry.scale_at(centre[0], centre[1])))


def is_perspective(geometry):
    """Does the road run into the picture?  ``calibrate`` gives a vanishing
    point only where the road's lines meet within ``PERSPECTIVE_REACH``
    image diagonals of the centre (so the scale changes by a third or more
    across the frame); otherwise the constant-scale tagger of a camera
    straight above the road serves."""
    return geometry is not None and geometry.vanishing_point is not None
