"""What the job learned about a camera, drawn on its estimated empty road
(a row of DIR/cameras/), for report.html.

On the road: lines one lane width (``LANE_WIDTH_M``) apart across the road
that run along it as the job understands it (towards the vanishing point, or
parallel when the camera looks straight down), the vanishing point itself,
and the scale across the road at a few places, in full-size pixels per metre.
Where the job found nothing to learn from, the road is shown bare.
"""

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from traffic.calibration import road_geometry
from traffic.camera_model import road_line
from traffic.markings import LANE_WIDTH_M
from traffic.perspective import camera_of
from traffic.records import CameraGeometry

LINE = (255, 214, 0)
LABEL = (255, 255, 255)
LANE = (0, 220, 255)
HALF_FAN = 12  # lines each side of the centre line


def _present(value):
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def record(row):
    """A CameraGeometry from a row of the cameras table (pandas gives NaN for
    a missing number)."""
    values = {f: row[f] if _present(row[f]) else None for f in CameraGeometry._fields}
    values["lane_centres_m"] = tuple(values["lane_centres_m"] if values["lane_centres_m"] is not None
                                     else ())
    return CameraGeometry(**values)


def fan_segments(c):
    """Segments ((u0, v0), (u1, v1)) in full-size pixels: lines along the road,
    one lane width apart, over the part of the road the frame shows."""
    w, h = c.width, c.height
    if c.vanishing_u is not None:
        uv, vv = c.vanishing_u, c.vanishing_v
        if vv >= h - 1:
            return []
        spacing = LANE_WIDTH_M * c.scale_k * (h - 1 - vv)  # along the bottom row
        top = max(vv, 0.0)
        t = (top - vv) / (h - 1 - vv)  # where the lines cross the top of the road
        return [((uv + j * spacing * t, top), (uv + j * spacing, h - 1))
                for j in range(-HALF_FAN, HALF_FAN + 1)]
    a = math.radians(c.direction_deg)
    d, n = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    centre, reach = np.array([w / 2, h / 2]), math.hypot(w, h)
    spacing = LANE_WIDTH_M * c.scale_centre
    lines = int(reach / max(spacing, 1e-9)) + 1
    return [tuple(map(tuple, (centre + j * spacing * n - reach * d, centre + j * spacing * n + reach * d)))
            for j in range(-min(lines, 40), min(lines, 40) + 1)]


def scale_marks(c):
    """[(u, v, pixels per metre)] at three heights of the road, on its axis."""
    w, h = c.width, c.height
    if c.vanishing_u is None:
        return [(w / 2, h / 2, c.scale_centre)]
    uv, vv = c.vanishing_u, c.vanishing_v
    top = max(vv, 0.0)
    marks = []
    for f in (0.35, 0.6, 0.9):
        v = top + f * (h - 1 - top)
        u = min(max(uv, 0.0), w - 1.0)
        marks.append((u, v, float(road_geometry(c).scale_at(u, v))))
    return marks


def lane_polylines(c):
    """[[(u, v), ...]] in full-size pixels: the middle of each lane the job
    found (perspective cameras), from near the camera to far along the road."""
    model = camera_of(c, 1) if c.lane_centres_m else None
    if model is None:
        return []
    out = []
    for x in c.lane_centres_m:
        uv = road_line(model.project, x, np.geomspace(2.0, 400.0, 80))
        keep = (uv[:, 1] <= c.height + 1) & (uv[:, 1] >= -1)
        if keep.sum() >= 2:
            out.append([tuple(p) for p in uv[keep]])
    return out


def draw(c, width):
    """A PIL image ``width`` pixels wide: the empty road of a CameraGeometry
    record with its learned geometry drawn on it."""
    road = Image.open(io.BytesIO(c.empty_road_jpeg)).convert("RGB")
    k = width / c.width
    img = road.resize((width, max(1, round(c.height * k))))
    if not c.marking_lines:
        return img
    d = ImageDraw.Draw(img)
    for (u0, v0), (u1, v1) in fan_segments(c):
        d.line([(u0 * k, v0 * k), (u1 * k, v1 * k)], fill=LINE, width=1)
    for line in lane_polylines(c):
        d.line([(u * k, v * k) for u, v in line], fill=LANE, width=2)
    if c.vanishing_u is not None:
        u, v = c.vanishing_u * k, c.vanishing_v * k
        d.ellipse([u - 4, v - 4, u + 4, v + 4], outline=(255, 64, 64), width=2)
    font = ImageFont.load_default(size=11)
    for u, v, s in scale_marks(c):
        label = f"{s:.1f} px/m"
        box = d.textbbox((u * k + 4, v * k - 6), label, font=font)
        d.rectangle(box, fill=(0, 0, 0))
        d.text((u * k + 4, v * k - 6), label, fill=LABEL, font=font)
    return img


def caption(c):
    """One line: what was learned, or why nothing was."""
    name = c.camera
    if not c.marking_lines:
        return (f"{name}: no road geometry learned (too few lane markings on the empty road); "
                f"{c.sample_frames} frames")
    where = ("lines parallel (camera straight above the road)" if c.vanishing_u is None
             else f"vanishing point ({c.vanishing_u:.0f}, {c.vanishing_v:.0f})")
    camera = ("" if c.focal_px is None else
              f"; camera about {c.camera_height_m:.1f} m above the road, focal length "
              f"{c.focal_px:.0f} px (learned from the traffic)"
              + (f", {len(c.lane_centres_m)} lanes (their middles drawn)" if c.lane_centres_m
                 else ", no lanes found (vehicles looked for anywhere on the road)"))
    return (f"{name}: {where}, direction {c.direction_deg:.1f}°, "
            f"{c.scale_centre:.1f} px/m across the road at the centre{camera}; "
            f"{c.marking_lines} marking lines, {c.sample_frames} frames")
