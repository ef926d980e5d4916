"""A pinhole model of a fixed camera over a flat road, from what the camera's
own frames teach.

``traffic.calibration`` gives the road's vanishing point and the scale across
the road.  With the principal point at the image centre and no roll, the
vanishing point fixes the camera's pitch and its heading relative to the road
for any focal length, and the scale across the road then fixes its height.
The focal length is the one thing the empty road cannot tell; it is learned
from the traffic: most vehicles are cars, and a car's size is a physical
constant, so the focal length at which a car placed on the road where each
isolated blob of the sample frames stands would look like that blob, for the
most blobs, wins (``learn_camera``, which also settles which of the scales
the markings allow is the road's).

With the model, any vehicle's box in the image can be predicted from where it
stands on the road (``vehicle_box``): what the tagger needs to cut a queue of
touching vehicles into vehicles and to tell a bus from a car at any distance.
World coordinates: metres, the road along +Y away from the camera, X to the
right, Z up, the camera above X = Y = 0.
"""

import dataclasses
import functools
import math

import numpy as np

# Physical facts: (length, width, height) in metres of the vehicles on
# European and North American highways.
SIZES_M = {
    "car": (4.5, 1.8, 1.5),
    "motorcycle": (2.2, 0.8, 1.4),
    "bus": (12.0, 2.55, 3.2),
    "truck": (10.0, 2.5, 3.6),  # rigid trucks 7-12 m, articulated 16.5 m
    "long truck": (16.5, 2.55, 4.0),
}
FOCAL_RANGE = (0.4, 5.0)  # focal length / image width: 14-100 degree fields of view
FOCAL_STEPS = 48  # focal lengths tried, evenly spaced in log
# A fit this many steps from an end of the range counts as at the end: the
# blobs' likeness still rising towards it, peaking a step inside by chance.
# (0 until a camera of fresh seed 131 took a 4.7-image-width focal length,
# its markings' scale off by 1.5, over the true one; of 84 cameras of seeds
# 101-106 and 127-134 it changed that camera only, and of 108 of seeds
# 135-152 one, from 6.2 to 1.1 times its true focal length.)
FOCAL_END_STEPS = 1
MOUNT_HEIGHT_M = (4.0, 40.0)  # poles, gantries, bridges and buildings beside a highway
# Lane markings give the scale across the road up to a whole-number ratio
# (a chain of markings two lanes apart, or a dashed line between solid ones,
# looks evenly spaced too): the traffic decides between them.
SCALE_RATIOS = (1.0, 0.5, 2.0, 1 / 3, 3.0, 2 / 3, 1.5)
SIZE_TOLERANCE = 0.25  # |log(size ratio)| within which a blob looks like a car
# The markings' own scale stands unless another ratio makes this much more
# of the blobs look like cars (their likeness is flat between ratios where
# the blobs are few or merged), and at least MIN_CARS of them: set on the
# tuning seeds' 36 cameras.
OTHER_SCALE_MARGIN = 0.25
MIN_CARS = 10  # car-like blobs the traffic needs to overrule or refine the markings' scale


@dataclasses.dataclass(frozen=True)
class CameraModel:
    focal: float  # pixels
    pitch: float  # radians, down
    yaw: float  # radians, of the optical axis from the road's direction
    height: float  # metres
    cx: float
    cy: float

    @functools.cached_property
    def _axes(self):
        """The camera's forward, right and down unit vectors (world), as one
        3x3 matrix of rows."""
        cp, sp, cy_, sy = math.cos(self.pitch), math.sin(self.pitch), math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[sy * cp, cy_ * cp, -sp],  # forward
                         [cy_, -sy, 0.0],  # right
                         [-sp * sy, -sp * cy_, -cp]])  # down = forward x right

    def project(self, points):
        """(N, 3) world points -> (N, 2) pixels and (N,) depths."""
        p = np.asarray(points, dtype=np.float64) - np.array([0.0, 0.0, self.height])
        z, x, y = (p @ self._axes.T).T
        zz = np.maximum(z, 1e-6)
        return np.stack([self.cx + self.focal * x / zz, self.cy + self.focal * y / zz], axis=-1), z

    def ground_points(self, u, v):
        """The road points (X, Y arrays; NaN above the horizon) seen at
        pixels (u, v) (arrays)."""
        forward, right, down = self._axes
        u, v = np.atleast_1d(np.asarray(u, dtype=np.float64)), np.atleast_1d(np.asarray(v, dtype=np.float64))
        rays = (forward[None] + ((u - self.cx) / self.focal)[:, None] * right[None]
                + ((v - self.cy) / self.focal)[:, None] * down[None])
        below = rays[:, 2] < -1e-9
        t = np.where(below, self.height / np.where(below, -rays[:, 2], 1.0), np.nan)
        return t * rays[:, 0], t * rays[:, 1]

    def ground(self, u, v):
        """The road point (X, Y) seen at pixel (u, v), or None above the horizon."""
        x, y = self.ground_points(u, v)
        return None if np.isnan(x[0]) else (float(x[0]), float(y[0]))


def road_line(project, x, ahead):
    """Image points (K, 2) of the road line at X = ``x`` metres across, at
    the distances ``ahead`` (metres along the road, increasing) that are in
    front of the camera, through ``project`` (world points -> (pixels,
    depths)): a lane's middle or a marking, as a camera draws it."""
    ahead = np.asarray(ahead, dtype=np.float64)
    uv, depth = project(np.stack([np.full_like(ahead, x), ahead, np.zeros_like(ahead)], axis=-1))
    return uv[depth > 0.5]


def from_geometry(geometry, focal, height=None):
    """The CameraModel of a RoadGeometry with a vanishing point, for a
    focal length in pixels (None when the geometry does not allow one); its
    height from the geometry's scale across the road unless given."""
    if geometry is None or geometry.vanishing_point is None or geometry.k <= 0:
        return None
    cx, cy = geometry.width / 2, geometry.height / 2
    uv, vv = geometry.vanishing_point
    pitch = math.atan2(cy - vv, focal)
    yaw = math.atan(-(uv - cx) * math.cos(pitch) / focal)
    unit = CameraModel(focal, pitch, yaw, 1.0, cx, cy)
    if height is not None:
        return dataclasses.replace(unit, height=float(height))
    # the scale across the road: lines X = 0 and X = 1 through the vanishing
    # point are 1 / height apart in du/dv (``calibration``'s k) at height 1
    y = 50.0
    (a, b), _ = unit.project(np.array([[0.0, y, 0.0], [1.0, y, 0.0]]))
    if a[1] <= vv + 1e-6 or b[1] <= vv + 1e-6:
        return None
    per_metre = abs((b[0] - uv) / (b[1] - vv) - (a[0] - uv) / (a[1] - vv))
    return dataclasses.replace(unit, height=per_metre / geometry.k)


def vehicle_boxes(model, u, v, kind="car", shifts=((0.0, 0.0),)):
    """Image boxes (N, 4: x0, y0, x1, y1; NaN above the horizon) of vehicles
    of ``kind`` whose lowest point in the image is pixel (u, v) (arrays of N,
    or one point with N ``shifts``): each stands on the road there, its
    nearest corner to the camera at that point, running along the road away
    from the camera, moved by its shift on the road (metres across, along)."""
    x, y = model.ground_points(u, v)
    length, width, height = SIZES_M[kind]
    x0 = np.where(x > width / 2, x, np.where(x < -width / 2, x - width, x - width / 2))
    shifts = np.asarray(shifts, dtype=np.float64).reshape(-1, 2)
    x0, y = x0 + shifts[:, 0], y + shifts[:, 1]
    offsets = np.array([[dx, dy, dz] for dx in (0.0, width) for dy in (0.0, length)
                        for dz in (0.0, height)])
    corners = np.stack([x0, y, np.zeros_like(x0)], axis=-1)[:, None, :] + offsets[None]
    uv, depth = model.project(corners.reshape(-1, 3))
    uv, depth = uv.reshape(-1, 8, 2), depth.reshape(-1, 8)
    boxes = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    bad = ~(depth.min(axis=1) > 0.1)  # NaN above the horizon
    boxes[bad] = np.nan
    return boxes


def vehicle_box(model, u, v, kind="car", shift=(0.0, 0.0)):
    """The image box (x0, y0, x1, y1) of one vehicle (see ``vehicle_boxes``),
    or None above the horizon."""
    box = vehicle_boxes(model, u, v, kind, (shift,))[0]
    return None if np.isnan(box).any() else tuple(float(b) for b in box)


def size_errors(widths, heights, expected_widths, expected_heights):
    """How unlike blobs are to the expected sizes: per blob, the larger
    |log| ratio of its two sides (a blob looks like the vehicle within
    ``SIZE_TOLERANCE``)."""
    return np.maximum(np.abs(np.log(widths / expected_widths)),
                      np.abs(np.log(heights / expected_heights)))


def likeness(errors):
    """How many blobs look like the vehicle, from their ``size_errors``:
    each counts 0..1 by how close its size is."""
    return float(np.clip(1.0 - errors / SIZE_TOLERANCE, 0.0, None).sum())


def _likeness(model, blobs):
    """How many blobs [(u, v, width, height)] look like a car standing where
    they stand."""
    blobs = np.asarray(blobs, dtype=np.float64).reshape(-1, 4)
    boxes = vehicle_boxes(model, blobs[:, 0], blobs[:, 1])
    pw, ph = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    ok = (pw > 0) & (ph > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return likeness(size_errors(blobs[:, 2], blobs[:, 3], pw, ph)[ok])


def learn_camera(geometry, blobs):
    """(CameraModel, scale ratio) of a camera from its RoadGeometry and the
    isolated blobs of its sample frames [(u, v, width, height)]: the focal
    length, and which of the scales the markings allow (``SCALE_RATIOS``),
    at which a car standing where each blob stands (its lowest point) looks
    the most like it over the most blobs, among cameras mounted at a height
    a highway camera can be (``MOUNT_HEIGHT_M``).  A scale whose best focal
    length is an end of ``FOCAL_RANGE`` (within ``FOCAL_END_STEPS`` of one)
    is taken only where no scale's is inside it: there the blobs would look
    still more like cars beyond the range, at a focal length no highway
    camera has, so that scale is not the road's (a long focal length flattens perspective, and a queue's
    blobs then pass for cars at the wrong scale).  The markings' own scale
    (ratio 1) stands unless another makes ``OTHER_SCALE_MARGIN`` more, and at
    least ``MIN_CARS``, blobs look like cars.  (None, None) without a
    perspective geometry, blobs, or a plausible camera."""
    if geometry is None or geometry.vanishing_point is None or not blobs:
        return None, None
    cameras = [from_geometry(geometry, focal)
               for focal in np.geomspace(*FOCAL_RANGE, FOCAL_STEPS) * geometry.width]
    best = {}  # ratio -> (score, model, at an end of the range)
    for ratio in SCALE_RATIOS:
        for n, camera in enumerate(cameras):
            if camera is None:
                continue
            model = dataclasses.replace(camera, height=camera.height * ratio)
            if not MOUNT_HEIGHT_M[0] <= model.height <= MOUNT_HEIGHT_M[1]:
                continue
            score = _likeness(model, blobs)
            if score > best.get(ratio, (-1.0,))[0] + 1e-9:
                best[ratio] = (score, model, score > 0 and (
                    n <= FOCAL_END_STEPS or n >= len(cameras) - 1 - FOCAL_END_STEPS))
    inside = {r: b for r, b in best.items() if not b[2]}
    candidates = inside or best
    if not candidates:
        return None, None
    # ties go to the earlier ratio of SCALE_RATIOS (the markings' own first)
    ratio = max(candidates, key=lambda r: (candidates[r][0], -SCALE_RATIOS.index(r)))
    score = candidates[ratio][0]
    if 1.0 in candidates and (score < MIN_CARS or score < (1 + OTHER_SCALE_MARGIN) * candidates[1.0][0]):
        ratio = 1.0
    return candidates[ratio][1], ratio
