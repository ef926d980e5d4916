"""What every geometry shares: frame size, the rush-hour clock, traffic
density, ground-truth records and seeded choices."""

import dataclasses
import datetime as dt
import math

import numpy as np

WIDTH, HEIGHT = 640, 360
RUSH_START = dt.datetime(2026, 3, 10, 7, 0, 0)
RUSH_MINUTES = 120
PEAK_MINUTE = 60

# (length range m, width range m) per body; trucks are rigid or articulated.
SIZES_M = {
    "car": ((3.9, 4.9), (1.7, 1.9)),
    "motorcycle": ((2.0, 2.3), (0.7, 0.9)),
    "bus": ((11.0, 13.0), (2.5, 2.55)),
    "truck_rigid": ((7.0, 9.5), (2.4, 2.5)),
    "truck_artic": ((14.5, 16.5), (2.5, 2.55)),
}
# the colour of a truck's cargo box (its cab has the truck's colour)
CARGO_SHARES = {"white": .35, "silver": .2, "grey": .15, "blue": .1,
                "red": .1, "green": .05, "yellow": .05}


@dataclasses.dataclass(frozen=True)
class TruthVehicle:
    type: str
    colour: str
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int  # exclusive
    occluded: bool = False  # less than half of it visible
    small: bool = False  # too few pixels to tell its type


def camera_name(index):
    return f"cam-{index + 1:02d}"


def choose(rng, shares):
    names = list(shares)
    p = np.array([shares[n] for n in names], dtype=np.float64)
    return names[rng.choice(len(names), p=p / p.sum())]


def frame_time(camera, frame_index, frames_per_camera):
    """Timestamp of a frame: evenly over the rush hour, offset per camera."""
    step = RUSH_MINUTES * 60 / frames_per_camera
    seconds = int((frame_index + camera.time_offset_s) * step)
    return RUSH_START + dt.timedelta(seconds=seconds)


def density(t):
    """Traffic density in (0, 1] at time t: busiest at the peak minute."""
    minute = (t - RUSH_START).total_seconds() / 60
    return 0.45 + 0.55 * math.exp(-((minute - PEAK_MINUTE) / 35.0) ** 2)


def smooth_noise(rng, h, w, cell):
    """Zero-mean smooth noise in about [-1, 1], made of bilinear blobs."""
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.uniform(-1, 1, (gh, gw))
    ys = np.linspace(0, gh - 1.001, h)
    xs = np.linspace(0, gw - 1.001, w)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return a * (1 - fy) * (1 - fx) + b * (1 - fy) * fx + c * fy * (1 - fx) + d * fy * fx
