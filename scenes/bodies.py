"""Vehicles as 3-D bodies: a few boxes each (body, cabin, cab, cargo box,
wheels, rider), with a colour per face, placed on the road and drawn in
perspective; and the shadow each casts on the ground.

A vehicle's local frame: x across (centred), y along from its rear (0) to
its front (length), z up from the road.
"""

import dataclasses

import numpy as np

from scenes.common import CARGO_SHARES, SIZES_M
from scenes.paints import paint

GLASS = np.array([34, 40, 50], dtype=np.float64)
DARK = np.array([22, 22, 24], dtype=np.float64)
ROOF_UNIT = np.array([200, 200, 204], dtype=np.float64)

FACES = {  # corner indices of each face of a box, and its outward normal
    "top": ((4, 5, 6, 7), (0, 0, 1)), "bottom": ((0, 1, 2, 3), (0, 0, -1)),
    "left": ((0, 3, 7, 4), (-1, 0, 0)), "right": ((1, 2, 6, 5), (1, 0, 0)),
    "rear": ((0, 1, 5, 4), (0, -1, 0)), "front": ((3, 2, 6, 7), (0, 1, 0)),
}


@dataclasses.dataclass(frozen=True)
class Part:
    box: tuple  # (x0, x1, y0, y1, z0, z1), local metres
    colours: dict  # face -> RGB; "sides" for any face not named


@dataclasses.dataclass(frozen=True)
class Body:
    type: str
    colour: str
    parts: tuple
    length: float
    width: float


def _box(x0, x1, y0, y1, z0, z1):
    return (x0, x1, y0, y1, z0, z1)


def make_body(rng, kind, colour, choose):
    """A vehicle of type ``kind`` painted ``colour`` (``choose`` draws from shares)."""
    key = kind
    if kind == "truck":
        key = "truck_rigid" if rng.uniform() < 0.5 else "truck_artic"
    (lmin, lmax), (wmin, wmax) = SIZES_M[key]
    length, width = rng.uniform(lmin, lmax), rng.uniform(wmin, wmax)
    w2 = width / 2
    body = paint(rng, colour)
    if kind == "car":
        z1 = rng.uniform(0.85, 1.05)
        cabin = rng.uniform(0.42, 0.62)
        front_of_cabin = rng.uniform(0.66, 0.74) * length
        parts = [
            Part(_box(-w2 + .1, w2 - .1, .35, length - .35, 0, .3), {"sides": DARK}),
            Part(_box(-w2, w2, 0, length, .25, z1), {"sides": body, "front": body * .8}),
            Part(_box(-w2 + .1, w2 - .1, front_of_cabin - .48 * length, front_of_cabin,
                      z1, z1 + cabin), {"top": body, "sides": GLASS}),
        ]
    elif kind == "motorcycle":
        rider = paint(rng, ("black", "grey", "blue")[int(rng.integers(3))]) * 0.6
        parts = [
            Part(_box(-.12, .12, .1, length - .1, 0, .6), {"sides": DARK}),
            Part(_box(-w2 + .1, w2 - .1, .35 * length, .85 * length, .45, 1.0), {"sides": body}),
            Part(_box(-.25, .25, .3 * length, .62 * length, 1.0, 1.65), {"sides": rider}),
        ]
    elif kind == "bus":
        parts = [
            Part(_box(-w2 + .1, w2 - .1, .5, length - .5, 0, .35), {"sides": DARK}),
            Part(_box(-w2, w2, 0, length, .3, 3.1), {"sides": body}),
            Part(_box(-w2 - .01, w2 + .01, .6, length - .3, 1.25, 2.35), {"sides": GLASS, "top": body}),
            Part(_box(-w2 + .2, w2 - .2, length - .02, length + .01, 1.2, 2.8), {"sides": GLASS}),
            Part(_box(-.6, .6, .3 * length, .3 * length + 1.8, 3.1, 3.4), {"sides": ROOF_UNIT}),
        ]
    else:  # truck: cab in the truck's colour, chassis gap, cargo box
        cargo = paint(rng, choose(rng, CARGO_SHARES))
        cab_z = rng.uniform(2.8, 3.3)
        box_z = rng.uniform(3.6, 4.0)
        parts = [
            Part(_box(-w2 + .1, w2 - .1, .3, length - .3, 0, .95), {"sides": DARK}),
            Part(_box(-w2, w2, 0, length - 2.75, .95, box_z), {"sides": cargo}),
            Part(_box(-w2, w2, length - 2.3, length, .45, cab_z), {"sides": body}),
            Part(_box(-w2 + .15, w2 - .15, length - .02, length + .01, 1.7, cab_z - .25),
                 {"sides": GLASS}),
        ]
    return Body(kind, colour, tuple(parts), length, width)


def corners(box):
    x0, x1, y0, y1, z0, z1 = box
    return np.array([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
                     [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]])


@dataclasses.dataclass(frozen=True)
class Placed:
    """A body on the road: rear end at (x, y), facing +Y (direction 1) or -Y."""
    body: Body
    x: float
    y: float
    direction: int

    def to_world(self, local):
        local = np.asarray(local, dtype=np.float64)
        d = self.direction
        return np.stack([self.x + d * local[..., 0], self.y + d * local[..., 1],
                         local[..., 2]], axis=-1)

    def all_corners(self):
        return np.concatenate([self.to_world(corners(p.box)) for p in self.body.parts])

    def faces(self, eye, sun, ambient, direct):
        """(polygon of world points, shaded RGB, depth) of every face turned
        towards ``eye``, far parts first."""
        out = []
        for part in self.body.parts:
            world = self.to_world(corners(part.box))
            centre = world.mean(axis=0)
            for name, (idx, normal) in FACES.items():
                n = np.array(normal, dtype=np.float64)
                n[:2] *= self.direction
                pts = world[list(idx)]
                if np.dot(n, np.asarray(eye) - pts.mean(axis=0)) <= 0:
                    continue
                colour = part.colours.get(name, part.colours["sides"])
                light = ambient + direct * max(0.0, float(np.dot(n, sun)))
                if name == "top":
                    light += 0.12 * ambient
                out.append((pts, np.clip(colour * light, 0, 255),
                            float(np.linalg.norm(centre - np.asarray(eye)))))
        return out

    def shadow(self, sun):
        """The ground polygon (convex hull, world XY) of the shadow cast
        along ``sun`` (a unit vector towards the sun)."""
        pts = self.all_corners()
        ground = pts[:, :2] - pts[:, 2:3] / sun[2] * np.asarray(sun[:2])[None, :]
        return convex_hull(ground)

    def footprint(self, margin=0.15):
        b = self.body
        local = np.array([[-b.width / 2 - margin, -margin, 0], [b.width / 2 + margin, -margin, 0],
                          [b.width / 2 + margin, b.length + margin, 0],
                          [-b.width / 2 - margin, b.length + margin, 0]])
        return self.to_world(local)[:, :2]


def convex_hull(points):
    """Convex hull of 2-D points, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=np.float64)))
    if len(pts) <= 2:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])
