"""Elevated highway cameras: a pinhole camera 6-15 m above a flat road,
beside or above it, looking along it, so the road runs into the picture
towards a vanishing point inside or above the frame and far vehicles are
small.

Every camera draws its parameters from the seed: height, field of view,
heading (from straight along the road to diagonal), tilt, roll, lanes (2-5,
one or both directions), road surface and markings, sun path, noise and JPEG
quality.  Every frame has its own light (a morning ramp, passing clouds,
colour temperature), cast shadows along the sun, sensor noise, nearer
vehicles hiding farther ones, and a slow jam in which one direction's
vehicles stand still for several frames.

The ground truth lists every vehicle whose whole box is inside the frame,
with ``occluded`` (less than half of it visible) and ``small`` (its box under
``SMALL_PX`` on its shorter side: too few pixels to tell its type).

A camera is drawn at 640x360, or at a whole multiple of that (``scale``):
the same scene, rendered with that many more pixels, as a sharper camera of
the same field of view would see it.
"""

import dataclasses
import math

import numpy as np
from PIL import Image, ImageDraw

from scenes import pinhole
from scenes.bodies import Placed, make_body
from scenes.common import (HEIGHT, WIDTH, TruthVehicle, camera_name, choose, density,
                           frame_time)
from traffic.vocabulary import COLOUR_SHARES, TYPE_SHARES

EDGE_MARGIN_PX = 2
SMALL_PX = 10
FAR_M = 260.0  # traffic is placed up to this far along the road
SUPERSAMPLE = 2


@dataclasses.dataclass
class ElevatedCamera:
    name: str
    index: int
    camera: pinhole.Pinhole
    lanes: tuple  # (centre X, direction)
    background: np.ndarray  # float HxWx3, the lit empty road at full sun, before drift
    ground_y_near: float
    sun_azimuth: float
    noise: float
    jam: tuple  # (direction, first frame, last frame + 1) as fractions of the run
    time_offset_s: float
    geometry: str = "elevated"


def make_camera(seed, index, scale=1):
    """Camera ``index`` of ``seed``, drawn ``scale`` times 640x360 (the
    scene does not depend on ``scale``)."""
    rng = np.random.default_rng([seed, index, 0xE1])
    lanes_total = int(rng.integers(2, 6))
    two_way = lanes_total >= 3 and rng.uniform() < 0.7 or lanes_total == 2 and rng.uniform() < .4
    lane_w = rng.uniform(3.4, 3.75)
    median = rng.uniform(1.0, 3.5) if two_way else 0.0
    away = lanes_total // 2 if two_way else lanes_total
    near_dir = 1 if rng.uniform() < 0.5 else -1
    lanes, x = [], -(lanes_total * lane_w + median) / 2
    for k in range(lanes_total):
        if two_way and k == away:
            x += median
        direction = near_dir if k < away else -near_dir
        lanes.append((x + lane_w / 2, direction))
        x += lane_w
    half = (lanes_total * lane_w + median) / 2
    height = rng.uniform(6.0, 15.0)
    side = rng.uniform(-half - 7.0, half + 7.0)
    hfov = rng.uniform(48.0, 68.0)
    # aimed at a point of the road 30-90 m ahead: straight along it from above
    # the road, diagonally across it from beside it
    ahead = rng.uniform(30.0, 90.0)
    target = rng.uniform(-0.5, 0.5) * half
    yaw = math.atan2(target - side, ahead) + math.radians(rng.normal(0, 4.0))
    pitch = math.atan2(height, math.hypot(ahead, target - side))
    cam = pinhole.camera(WIDTH * scale, HEIGHT * scale, hfov, (side, 0.0, height), yaw, pitch,
                         math.radians(rng.normal(0, 1.0)))
    background, y_near = _road(rng, cam, lanes, lane_w, median, two_way)
    jam_len = rng.uniform(0.1, 0.2)
    jam_start = rng.uniform(0.2, 0.8 - jam_len)
    return ElevatedCamera(
        name=camera_name(index), index=index, camera=cam, lanes=tuple(lanes),
        background=background, ground_y_near=y_near,
        sun_azimuth=rng.uniform(0, 2 * math.pi), noise=rng.uniform(1.2, 4.0),
        jam=(lanes[int(rng.integers(len(lanes)))][1], jam_start, jam_start + jam_len),
        time_offset_s=float(rng.uniform(0, 1)))


def road_truth(camera, x, y):
    """The true geometry at road point (x, y) (metres across and along the
    road) of an ElevatedCamera: (scale across the road in full-size pixels
    per metre, square to the road's image direction; that direction in
    degrees, 0-180; where the point is in the image, full-size pixels).
    What a calibration is checked against."""
    points = np.array([[x, y, 0.0], [x + 1.0, y, 0.0], [x, y + 5.0, 0.0]])
    (p, across, along), _ = camera.camera.project(points)
    d = (along - p) / np.linalg.norm(along - p)
    normal = np.array([-d[1], d[0]])
    return abs(float(np.dot(across - p, normal))), math.degrees(math.atan2(d[1], d[0])) % 180, p


def _value_noise(rng, x, y, cell, size=64):
    """Smooth noise in about [-1, 1] over world coordinates (metres)."""
    table = rng.uniform(-1, 1, (size, size))
    gx, gy = x / cell, y / cell
    x0, y0 = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    fx, fy = gx - x0, gy - y0
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)

    def at(i, j):
        return table[i % size, j % size]
    return (at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy)
            + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy)


def _road(rng, cam, lanes, lane_w, median, two_way):
    """The empty road as the camera sees it (float RGB), and the nearest
    road distance along Y the bottom of the frame shows."""
    x, y, dist, ground = cam.ground(SUPERSAMPLE)
    xs, ys = np.where(ground, x, 0.0), np.where(ground, y, 0.0)
    half = (len(lanes) * lane_w + median) / 2
    shoulder = rng.uniform(0.8, 2.5)
    grass = np.array([72, 98, 54]) + rng.normal(0, 8, 3)
    g = rng.uniform(62, 128)  # dark asphalt to light concrete
    asphalt = np.array([g, g, g + rng.uniform(0, 4)])
    img = np.empty(x.shape + (3,))
    img[:] = grass
    img += (_value_noise(rng, xs, ys, 1.5) * 12)[..., None]
    on_road = np.abs(xs) <= half + shoulder
    road = asphalt + (_value_noise(rng, xs, ys, 0.7) * 4 + _value_noise(rng, xs, ys, 6.0) * 5)[..., None]
    img[on_road] = road[on_road]
    if two_way:  # a concrete median strip
        centre = lanes[0][0] - lane_w / 2 + sum(1 for c, d in lanes if d == lanes[0][1]) * lane_w
        strip = (xs >= centre) & (xs < centre + median)
        img[strip] = np.array([132, 130, 124]) + (_value_noise(rng, xs, ys, 2.0) * 6)[strip][:, None]
    paint_white = np.array([214, 214, 208])
    line = rng.uniform(0.12, 0.2)
    edges = [lanes[0][0] - lane_w / 2, lanes[-1][0] + lane_w / 2]
    for k in range(1, len(lanes)):
        if lanes[k][1] != lanes[k - 1][1]:
            edges += [lanes[k - 1][0] + lane_w / 2, lanes[k][0] - lane_w / 2]
    for e in edges:
        img[np.abs(xs - e) < line / 2] = paint_white
    dash, period, phase = rng.uniform(2.5, 4.5), rng.uniform(9.0, 13.0), rng.uniform(0, 12)
    for k in range(1, len(lanes)):
        if lanes[k][1] == lanes[k - 1][1]:
            b = (lanes[k - 1][0] + lanes[k][0]) / 2
            img[(np.abs(xs - b) < line / 2) & (((ys + phase) % period) < dash)] = paint_white
    # sky above the horizon, haze towards it
    sky_top, sky_low = np.array([150, 172, 205]), np.array([205, 212, 220])
    rows = np.linspace(0, 1, img.shape[0])[:, None, None]
    sky = sky_top * (1 - rows) + sky_low * rows
    haze = 1 - np.exp(-np.where(ground, dist, np.inf) / 700.0)
    img = img * (1 - haze[..., None]) + sky_low * haze[..., None]
    img = np.where(ground[..., None], img, np.broadcast_to(sky, img.shape))
    s = SUPERSAMPLE
    img = img.reshape(cam.height, s, cam.width, s, 3).mean(axis=(1, 3))
    y_near = float(np.min(np.where(ground, y, np.inf)))
    return img, y_near


def _light(camera, t, frame_index):
    """(gain, RGB white balance, sun unit vector, direct share, shadow share) of a frame."""
    minutes = (t - t.replace(hour=7, minute=0, second=0)).total_seconds() / 60
    progress = min(max(minutes / 120.0, 0.0), 1.0)
    elevation = math.radians(10 + 28 * progress)
    azimuth = camera.sun_azimuth + math.radians(30 * progress)
    sun = np.array([math.cos(elevation) * math.sin(azimuth),
                    math.cos(elevation) * math.cos(azimuth), math.sin(elevation)])
    rng = np.random.default_rng([camera.index, frame_index, 0x11])
    cloud = min(1.0, max(0.0, 0.75 + 0.5 * math.sin(frame_index * 0.9 + camera.index * 2.1)
                         + rng.normal(0, 0.15)))
    gain = (0.72 + 0.38 * progress) * (0.7 + 0.3 * cloud) * rng.uniform(0.97, 1.03)
    warm = 0.1 * (1 - progress)
    balance = np.array([1 + warm, 1.0, 1 - warm]) * rng.uniform(0.98, 1.02, 3)
    return gain, balance, sun, cloud


def _traffic(seed, camera, frame_index, frames, t):
    """The vehicles on the road in one frame, nearest last."""
    jam_dir, jam_a, jam_b = camera.jam
    jammed = jam_a * frames <= frame_index < jam_b * frames
    placed = []
    mean_gap = 7.0 / density(t)
    for lane_index, (centre, direction) in enumerate(camera.lanes):
        still = jammed and direction == jam_dir
        key = int(jam_a * frames) if still else frame_index + 1
        rng = np.random.default_rng([seed, camera.index, key, lane_index, 0x7A])
        y = camera.ground_y_near - 25.0 + rng.uniform(0, 3.0 if still else mean_gap)
        while y < FAR_M:
            kind = choose(rng, TYPE_SHARES)
            body = make_body(rng, kind, choose(rng, COLOUR_SHARES[kind]), choose)
            lateral = rng.uniform(-0.25, 0.25)
            rear = y if direction > 0 else y + body.length
            placed.append(Placed(body, centre + lateral, rear, direction))
            gap = (1.2 + rng.exponential(1.2)) if still else (2.5 + rng.exponential(mean_gap))
            y += body.length + gap
    return placed


def render_frame(seed, camera_index, frame_index, frames_per_camera, camera):
    """One frame: (uint8 HxWx3 RGB, timestamp, [TruthVehicle, ...], JPEG quality)."""
    t = frame_time(camera, frame_index, frames_per_camera)
    cam = camera.camera
    gain, balance, sun, cloud = _light(camera, t, frame_index)
    vehicles = _traffic(seed, camera, frame_index, frames_per_camera, t)
    eye = np.asarray(cam.position)
    # far first: painter's order
    order = sorted(range(len(vehicles)),
                   key=lambda i: -np.linalg.norm(vehicles[i].all_corners().mean(axis=0) - eye))
    shade = Image.new("L", (cam.width, cam.height), 0)
    draw_shade = ImageDraw.Draw(shade)
    direct = 0.55 * cloud
    for v in vehicles:
        if _in_front(cam, v):
            _fill(draw_shade, cam, np.c_[v.footprint(), np.zeros(4)], 90)  # contact shadow
            if direct > 0.05:
                hull = v.shadow(sun)
                _fill(draw_shade, cam, np.c_[hull, np.zeros(len(hull))], int(200 * direct))
    shadow = np.asarray(shade, dtype=np.float64) / 255.0
    ground = camera.background * (1 - 0.75 * shadow[..., None])
    image = Image.fromarray(np.clip(ground, 0, 255).astype(np.uint8))
    ids = Image.new("I", (cam.width, cam.height), 0)
    draw, draw_ids = ImageDraw.Draw(image), ImageDraw.Draw(ids)
    ambient = 0.62 + 0.2 * (1 - cloud)
    faces_of = {}
    for i in order:
        v = vehicles[i]
        if not _in_front(cam, v):
            continue
        faces = sorted(v.faces(eye, sun, ambient, direct), key=lambda f: -f[2])
        faces_of[i] = faces
        for pts, colour, _ in faces:
            _fill(draw, cam, pts, tuple(int(c) for c in colour))
            _fill(draw_ids, cam, pts, i + 1)
    truth = _truth(cam, vehicles, faces_of, np.asarray(ids))
    img = np.asarray(image, dtype=np.float64) * gain * balance
    rng = np.random.default_rng([seed, camera_index, frame_index, 0x0E])
    img = img + rng.normal(0, camera.noise, img.shape)
    quality = int(rng.integers(55, 93))
    return np.clip(img, 0, 255).round().astype(np.uint8), t, truth, quality


def _in_front(cam, v):
    _, z = cam.project(v.all_corners())
    return bool(z.min() > 0.5)


def _fill(draw, cam, world_pts, fill):
    uv, z = cam.project(world_pts)
    if z.min() <= 0.1:
        return
    draw.polygon([(float(u), float(v)) for u, v in uv], fill=fill)


def _truth(cam, vehicles, faces_of, ids):
    truth = []
    for i, faces in faces_of.items():
        v = vehicles[i]
        uv, _ = cam.project(v.all_corners())
        x0, y0 = np.floor(uv.min(axis=0)).astype(int)
        x1, y1 = np.ceil(uv.max(axis=0)).astype(int)
        if (x0 < EDGE_MARGIN_PX or y0 < EDGE_MARGIN_PX or x1 > cam.width - EDGE_MARGIN_PX
                or y1 > cam.height - EDGE_MARGIN_PX):
            continue
        alone = Image.new("1", (x1 - x0 + 2, y1 - y0 + 2), 0)
        d = ImageDraw.Draw(alone)
        for pts, _, _ in faces:
            q, _ = cam.project(pts)
            d.polygon([(float(a) - x0, float(b) - y0) for a, b in q], fill=1)
        area = int(np.asarray(alone).sum())
        visible = int((ids[y0:y1 + 1, x0:x1 + 1] == i + 1).sum())
        truth.append(TruthVehicle(v.body.type, v.body.colour, int(x0), int(y0), int(x1), int(y1),
                                  occluded=area == 0 or visible < 0.5 * area,
                                  small=min(x1 - x0, y1 - y0) < SMALL_PX))
    return truth
