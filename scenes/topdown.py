"""Top-down cameras: synthetic rush-hour highway scenes with exact ground truth.

A camera looks straight down on a straight highway (an overpass or mast camera,
the road running left to right), at a scale of its own: masts and overpasses
differ in height and lens, so each camera draws its pixels per metre from
``SCALE_RANGE``.
Each camera has its own road: lane count, asphalt shade and texture, verges,
markings.  Traffic is drawn lane by lane from the type and colour shares of
``traffic.vocabulary``; its density follows the rush hour (peak at 08:00), and
every frame shows new positions.  The ground truth lists every vehicle that is
wholly inside the frame and clear of its edges, with the pixel box it was painted in.

Everything is a pure function of (seed, camera index, frame index).
"""

import dataclasses
import math

import numpy as np

from scenes.common import (CARGO_SHARES, HEIGHT, SIZES_M, WIDTH, TruthVehicle, camera_name,
                           choose, density, frame_time, smooth_noise)
from traffic.vocabulary import COLOUR_RGB, COLOUR_SHARES, TYPE_SHARES

SCALE_RANGE = (8.0, 13.0)  # pixels per metre at full size
LANE_WIDTH_M = 3.6
# A vehicle is in the ground truth when it is whole and clear of the frame's
# left and right edges (a vehicle touching the edge may be cut by it).
EDGE_MARGIN_PX = 2

GLASS = np.array([38, 44, 56], dtype=np.float64)
CHASSIS = np.array([20, 20, 22], dtype=np.float64)
ROOF_UNIT = np.array([205, 205, 208], dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class Lane:
    y_centre: float  # pixels
    direction: int  # +1 moves right, -1 moves left


@dataclasses.dataclass
class CameraScene:
    """The static part of one camera's view: the empty road and its lanes."""
    name: str
    background: np.ndarray  # float64 HxWx3
    lanes: tuple
    time_offset_s: float
    pixels_per_metre: float
    geometry: str = "top-down"


def make_camera(seed, index, pixels_per_metre=None):
    """The empty road of camera ``index``: deterministic for (seed, index),
    at ``pixels_per_metre`` or a scale drawn from ``SCALE_RANGE`` (its own
    stream, so the road's other features do not depend on it)."""
    rng = np.random.default_rng([seed, index, 0xCA])
    if pixels_per_metre is None:
        pixels_per_metre = float(np.random.default_rng([seed, index, 0x5CA1E]).uniform(*SCALE_RANGE))
    ppm = pixels_per_metre
    per_dir = int(rng.integers(2, 4))
    lane_px = LANE_WIDTH_M * ppm
    median_px = int(1.2 * ppm)
    shoulder_px = int(1.0 * ppm)
    road_h = int(2 * per_dir * lane_px + median_px + 2 * shoulder_px)
    top = (HEIGHT - road_h) // 2 + int(rng.integers(-10, 11))
    top = max(4, min(HEIGHT - road_h - 4, top))

    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    img = np.empty((HEIGHT, WIDTH, 3))
    # verges: grass and soil, a static texture
    grass = np.array([70, 96, 52]) + rng.normal(0, 6, 3)
    tex = smooth_noise(rng, HEIGHT, WIDTH, 6) * 14
    img[:] = grass + tex[..., None]
    # asphalt
    g = rng.uniform(58, 70)
    asphalt = np.array([g, g, g + 2.0])
    road_tex = smooth_noise(rng, HEIGHT, WIDTH, 3) * 3
    road = (yy >= top) & (yy < top + road_h)
    img[road] = (asphalt + road_tex[..., None])[road]
    # median strip (concrete)
    mtop = top + shoulder_px + int(per_dir * lane_px)
    img[mtop:mtop + median_px] = np.array([128, 126, 120]) + tex[mtop:mtop + median_px, :, None] * 0.3
    white = np.array([215, 215, 210])
    lanes = []
    for side in range(2):
        start = top + shoulder_px if side == 0 else mtop + median_px
        direction = 1 if side == 0 else -1
        # solid edge lines
        for y in (start, start + int(per_dir * lane_px) - 2):
            img[y:y + 2] = white
        for k in range(per_dir):
            y0 = start + k * lane_px
            lanes.append(Lane(y_centre=y0 + lane_px / 2, direction=direction))
            if k:
                y = int(round(y0)) - 1
                phase = int(rng.integers(0, 120))
                period = int(round(12 * ppm))
                dash = ((xx[0] + phase) % period) < int(round(3 * ppm))  # 3 m dash, 9 m gap
                img[y:y + 2, dash] = white
    return CameraScene(name=camera_name(index), background=img, lanes=tuple(lanes),
                       time_offset_s=float(rng.uniform(0, 1)), pixels_per_metre=ppm)


def _shade(rng, rgb):
    c = np.asarray(rgb, dtype=np.float64) * rng.uniform(0.94, 1.04) + rng.normal(0, 3, 3)
    return np.clip(c, 0, 255)


def _paint(img, x0, y0, x1, y1, colour):
    """Fill a box clipped to the image."""
    h, w = img.shape[:2]
    xa, xb, ya, yb = max(0, x0), min(w, x1), max(0, y0), min(h, y1)
    if xa < xb and ya < yb:
        img[ya:yb, xa:xb] = colour


def _band(x0, x1, direction, start_m, end_m, ppm):
    """Pixel columns [a, b) from start_m to end_m behind the vehicle's front."""
    if direction > 0:
        return x1 - int(round(end_m * ppm)), x1 - int(round(start_m * ppm))
    return x0 + int(round(start_m * ppm)), x0 + int(round(end_m * ppm))


def _draw_vehicle(img, rng, kind, colour, box, direction, ppm):
    x0, y0, x1, y1 = box
    body = _shade(rng, COLOUR_RGB[colour])
    if kind == "car":
        _paint(img, x0, y0, x1, y1, body * 0.85)
        _paint(img, x0 + 1, y0 + 1, x1 - 1, y1 - 1, body)
        length_m = (x1 - x0) / ppm
        for start, end in ((0.26, 0.40), (0.80, 0.90)):  # windscreen, rear window
            a, b = _band(x0, x1, direction, start * length_m, end * length_m, ppm)
            _paint(img, a, y0 + 2, b, y1 - 2, GLASS)
    elif kind == "motorcycle":
        _paint(img, x0, y0, x1, y1, body)
        cx = (x0 + x1) // 2 - direction * 2
        cy = (y0 + y1) // 2
        _paint(img, cx - 2, cy - 2, cx + 2, cy + 2, GLASS * 0.9)  # rider's helmet
    elif kind == "bus":
        _paint(img, x0, y0, x1, y1, body * 0.85)
        _paint(img, x0 + 1, y0 + 1, x1 - 1, y1 - 1, body)
        length = x1 - x0
        for frac in (0.3, 0.62):
            a = x0 + int(frac * length)
            _paint(img, a, y0 + 6, a + 18, y1 - 6, ROOF_UNIT)
    else:  # truck: cab in `colour`, chassis gap, cargo box
        cargo = _shade(rng, COLOUR_RGB[choose(rng, CARGO_SHARES)])
        _paint(img, x0, y0, x1, y1, cargo * 0.88)
        _paint(img, x0 + 1, y0 + 1, x1 - 1, y1 - 1, cargo)
        a, b = _band(x0, x1, direction, 0.0, 2.3, ppm)
        _paint(img, a, y0, b, y1, body)
        a, b = _band(x0, x1, direction, 0.3, 0.7, ppm)
        _paint(img, a, y0 + 2, b, y1 - 2, GLASS)
        a, b = _band(x0, x1, direction, 2.3, 2.7, ppm)
        _paint(img, a, y0, b, y1, CHASSIS)


def render_frame(seed, camera_index, frame_index, frames_per_camera, camera=None):
    """One frame: (uint8 HxWx3 RGB, timestamp, [TruthVehicle, ...])."""
    camera = camera or make_camera(seed, camera_index)
    t = frame_time(camera, frame_index, frames_per_camera)
    rng = np.random.default_rng([seed, camera_index, frame_index + 1])
    ppm = camera.pixels_per_metre
    img = camera.background.copy()
    truth = []
    mean_gap = 6.0 / density(t)
    for lane in camera.lanes:
        x_m = -20.0 + rng.uniform(0, mean_gap)
        while x_m < WIDTH / ppm + 5:
            kind = choose(rng, TYPE_SHARES)
            colour = choose(rng, COLOUR_SHARES[kind])
            size_key = kind
            if kind == "truck":
                size_key = "truck_rigid" if rng.uniform() < 0.5 else "truck_artic"
            (lmin, lmax), (wmin, wmax) = SIZES_M[size_key]
            length, width = rng.uniform(lmin, lmax), rng.uniform(wmin, wmax)
            lateral = rng.uniform(-0.2, 0.2) * ppm
            x0 = int(round(x_m * ppm))
            x1 = x0 + int(round(length * ppm))
            yc = lane.y_centre + lateral
            y0 = int(round(yc - width * ppm / 2))
            y1 = y0 + int(round(width * ppm))
            _draw_vehicle(img, rng, kind, colour, (x0, y0, x1, y1), lane.direction, ppm)
            if x0 >= EDGE_MARGIN_PX and x1 <= WIDTH - EDGE_MARGIN_PX:
                truth.append(TruthVehicle(kind, colour, x0, y0, x1, y1))
            x_m += length + 2.5 + rng.exponential(mean_gap)
    lighting = 1.0 + 0.03 * math.sin(frame_index * 0.7 + camera_index)
    img = img * lighting + rng.normal(0, 2.0, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8), t, truth
