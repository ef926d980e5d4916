"""How far a run's learned camera geometry (``DIR/cameras/``) is from the
truth, on a sample set written by ``pipelines.generate_sample``: the
generator's cameras are rebuilt from the same seed and geometry.

    python -m benchmarks.calibration_error --run DIR --seed N [--geometry elevated] [--json FILE]

Per camera: the scale across the road (learned / true - 1, the worst over
the middles of the true lanes at 5, 15 and 40 m beyond the nearest road the
frame shows), the road's direction (the worst angle there, degrees), the lanes
found against the true ones and how far the learned lane middles lie from
the true ones (the worst, in lane widths, over the lower half of the frame),
and the learned focal length against the true one.  A camera straight above
the road has one scale and one direction.  The last line counts the cameras
within 10 % in scale and 10 degrees in direction (what the calibration test
asks of its cameras).
"""

import argparse
import json
import math
import sys

import numpy as np

import scenes
from pipelines.camera_view import record as camera_record
from pipelines.outputs import read_table
from scenes.elevated import road_truth
from traffic import camera_model, perspective
from traffic.calibration import road_geometry
from traffic.markings import LANE_WIDTH_M

AHEAD_M = (5, 15, 40)
GOOD_SCALE, GOOD_DIRECTION_DEG = 0.10, 10.0


def errors(camera, geometry, reduce=1):
    """(scale errors, direction errors in degrees) of a RoadGeometry at
    1/``reduce`` of the full size against an elevated camera's truth, at the
    middle of each true lane ``AHEAD_M`` beyond the nearest road in view
    (points outside the frame left out)."""
    scale_errors, direction_errors = [], []
    for x, _ in camera.lanes:
        for ahead in AHEAD_M:
            scale, direction, p = road_truth(camera, x, camera.ground_y_near + ahead)
            scale, p = scale / reduce, p / reduce
            if not (0 <= p[0] < geometry.width and 0 <= p[1] < geometry.height):
                continue
            scale_errors.append(float(geometry.scale_at(p[0], p[1])) / scale - 1)
            d = geometry.direction_at(p[0], p[1])
            off = abs(math.degrees(math.atan2(d[1], d[0])) % 180 - direction) % 180
            direction_errors.append(min(off, 180 - off))
    return scale_errors, direction_errors


def lane_u(project, x, rows):
    """Columns at which the middle of the lane at road X = ``x`` crosses
    image ``rows`` (NaN where it does not), through ``project`` (world
    points -> (pixels, depths))."""
    uv = camera_model.road_line(project, x, np.geomspace(1.0, 500.0, 400))
    order = np.argsort(uv[:, 1])
    return np.interp(rows, uv[order, 1], uv[order, 0], left=np.nan, right=np.nan)


def lane_offset(camera, record):
    """How far (in lane widths) the learned lane middles of a record lie
    from an elevated camera's true ones, the worst over the lower half of
    the frame, each drawn through its own camera; None where the record
    holds a different number of lanes (or no camera model)."""
    model = perspective.camera_of(record, 1)
    if model is None or len(record.lane_centres_m) != len(camera.lanes):
        return None
    truth = camera.camera
    rows = np.linspace(truth.height * 0.5, truth.height - 1, 12)
    true_u = [lane_u(truth.project, x, rows) for x, _ in camera.lanes]
    width = np.abs(lane_u(truth.project, camera.lanes[0][0] + LANE_WIDTH_M, rows) - true_u[0])
    found = [lane_u(model.project, x, rows) for x in record.lane_centres_m]
    return float(max(np.nanmax(np.abs(f - t) / width) for f, t in zip(found, true_u)))


def compare(camera, record):
    """One camera's row: its learned geometry against the generator's."""
    row = {"camera": record.camera, "geometry": camera.geometry}
    if camera.geometry == "top-down":
        off = None if record.direction_deg is None else abs(record.direction_deg) % 180
        row.update(scale_error=(None if record.scale_centre is None
                                else record.scale_centre / camera.pixels_per_metre - 1),
                   direction_error_deg=None if off is None else min(off, 180 - off),
                   perspective=record.vanishing_u is not None)
        return row
    geometry = road_geometry(record)
    if geometry is None:
        return dict(row, scale_error=None, direction_error_deg=None)
    scale_errors, direction_errors = errors(camera, geometry)
    row.update(
        scale_error=max(scale_errors, key=abs) if scale_errors else None,
        direction_error_deg=max(direction_errors) if direction_errors else None,
        lanes=len(record.lane_centres_m), true_lanes=len(camera.lanes),
        lane_offset=lane_offset(camera, record),
        focal_ratio=None if record.focal_px is None else record.focal_px / camera.camera.f)
    return row


def good(row):
    return (row["scale_error"] is not None and abs(row["scale_error"]) < GOOD_SCALE
            and row["direction_error_deg"] is not None
            and row["direction_error_deg"] < GOOD_DIRECTION_DEG)


def measure(run, seed, geometry):
    """Rows of ``compare`` for every camera of a run."""
    cameras = read_table(run, "cameras")
    truth = {}
    for index in range(len(cameras)):
        camera = scenes.make_camera(seed, index, geometry)
        truth[camera.name] = camera
    rows = []
    for _, r in cameras.sort_values("camera").iterrows():
        record = camera_record(r)
        if record.camera not in truth:
            raise SystemExit(f"calibration_error: camera {record.camera} is not one of seed "
                             f"{seed}'s first {len(cameras)} cameras")
        rows.append(compare(truth[record.camera], record))
    return rows


def _fmt(value, pattern):
    return "-" if value is None else pattern.format(value)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="calibration_error", description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="a tag_images output directory")
    ap.add_argument("--seed", type=int, required=True, help="the seed the sample was generated with")
    ap.add_argument("--geometry", choices=scenes.GEOMETRIES, default="mixed",
                    help="the sample's --geometry (default: mixed)")
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args(argv)
    rows = measure(a.run, a.seed, a.geometry)
    if not rows:
        ap.error(f"no cameras in {a.run}/cameras/")
    print(f"{'camera':8} {'geometry':9} {'scale':>7} {'dir deg':>7} {'lanes':>6} "
          f"{'lane off':>8} {'focal':>6}")
    for r in rows:
        lanes = f"{r['lanes']}/{r['true_lanes']}" if "lanes" in r else "-"
        print(f"{r['camera']:8} {r['geometry']:9} {_fmt(r['scale_error'], '{:+.1%}'):>7} "
              f"{_fmt(r['direction_error_deg'], '{:.1f}'):>7} {lanes:>6} "
              f"{_fmt(r.get('lane_offset'), '{:.2f}'):>8} {_fmt(r.get('focal_ratio'), '{:.2f}'):>6}")
    print(f"{sum(good(r) for r in rows)} of {len(rows)} cameras within "
          f"{GOOD_SCALE:.0%} in scale and {GOOD_DIRECTION_DEG:g} degrees in direction")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
