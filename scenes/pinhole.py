"""A pinhole camera above a flat world: projection of 3-D points to pixels and
the ground point behind every pixel.

World axes: X across the road, Y along it, Z up (metres).  Camera axes:
x right, y down, z forward; pixel (u, v) = centre + f * (x, y) / z.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class Pinhole:
    width: int
    height: int
    f: float  # focal length, pixels
    position: tuple  # (X, Y, Z) of the optical centre
    rotation: np.ndarray  # 3x3, world -> camera (rows: right, down, forward)

    def to_camera(self, points):
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.position)) @ self.rotation.T

    def project(self, points):
        """(..., 3) world points -> ((..., 2) pixels, (...) depth in metres)."""
        c = self.to_camera(points)
        z = c[..., 2]
        safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
        uv = np.stack([self.width / 2 + self.f * c[..., 0] / safe,
                       self.height / 2 + self.f * c[..., 1] / safe], axis=-1)
        return uv, z

    def rays(self, supersample=1):
        """World directions through pixel centres, (H*s, W*s, 3)."""
        s = supersample
        u = (np.arange(self.width * s) + 0.5) / s
        v = (np.arange(self.height * s) + 0.5) / s
        uu, vv = np.meshgrid(u, v)
        d = np.stack([(uu - self.width / 2) / self.f, (vv - self.height / 2) / self.f,
                      np.ones_like(uu)], axis=-1)
        return d @ self.rotation  # camera -> world (the rotation is orthonormal)

    def ground(self, supersample=1):
        """(X, Y, distance, is_ground) of the ground plane Z = 0 behind each pixel."""
        d = self.rays(supersample)
        down = d[..., 2] < -1e-6
        t = np.where(down, -self.position[2] / np.where(down, d[..., 2], -1.0), np.inf)
        x = self.position[0] + t * d[..., 0]
        y = self.position[1] + t * d[..., 1]
        distance = t * np.linalg.norm(d, axis=-1)
        return x, y, distance, down

    def horizon_v(self):
        """Image row of the horizon (where the road's vanishing point lies)."""
        forward = self.rotation[2]
        flat = np.array([forward[0], forward[1], 0.0])
        flat /= np.linalg.norm(flat)
        uv, _ = self.project(np.asarray(self.position) + 1e6 * flat)
        return float(uv[1])


def look(position, yaw, pitch, roll=0.0):
    """The rotation of a camera at ``position`` looking along the road (+Y)
    turned by ``yaw`` (radians, towards +X), tilted down by ``pitch`` and
    rolled by ``roll``."""
    forward = np.array([math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch),
                        -math.sin(pitch)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward])


def camera(width, height, hfov_deg, position, yaw, pitch, roll=0.0):
    f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
    return Pinhole(width, height, f, tuple(float(p) for p in position),
                   look(position, yaw, pitch, roll))
