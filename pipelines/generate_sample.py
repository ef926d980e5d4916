"""Generate a synthetic rush-hour sample set with exact ground truth.

    python -m pipelines.generate_sample --output data/sample \
        [--cameras 6] [--frames-per-camera 40] [--seed 2026] \
        [--geometry top-down|elevated|mixed] [--frozen-cameras 0] [--scale 1]

Writes DIR/images/<camera>/<frame>.jpg (with EXIF DateTimeOriginal),
DIR/manifest.csv (path,camera,timestamp) and DIR/ground_truth.parquet (one row
per vehicle wholly inside a frame: image, camera, timestamp, type, colour,
x0, y0, x1, y1 (x1/y1 exclusive), occluded (less than half of it visible),
small (its box under 10 px on its shorter side)).  Frames are 640x360, or
with ``--scale N`` (elevated cameras only) N times that: the same scenes
drawn with N times the pixels each way, as a sharper camera would see them.
The renderers are in the ``scenes`` package: test equipment, which no tagger
imports.
"""

import argparse
import concurrent.futures
import csv
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

import scenes
from traffic.imaging import encode_jpeg

TRUTH_SCHEMA = pa.schema([
    ("image", pa.string()), ("camera", pa.string()), ("timestamp", pa.timestamp("s")),
    ("type", pa.string()), ("colour", pa.string()),
    ("x0", pa.int32()), ("y0", pa.int32()), ("x1", pa.int32()), ("y1", pa.int32()),
    ("occluded", pa.bool_()), ("small", pa.bool_()),
])


def _render_camera(args):
    output, seed, index, frames, geometry, frozen, scale = args
    camera = scenes.make_camera(seed, index, geometry, scale)
    folder = os.path.join(output, "images", camera.name)
    os.makedirs(folder, exist_ok=True)
    manifest, truth = [], []
    for f in range(frames):
        pixels, t, vehicles, quality = scenes.render(
            seed, index, f, frames, camera, frozen_after=frames // 2 if frozen else None)
        rel = f"images/{camera.name}/frame-{f:04d}.jpg"
        with open(os.path.join(output, rel), "wb") as fh:
            fh.write(encode_jpeg(pixels, t, quality))
        manifest.append({"path": rel, "camera": camera.name, "timestamp": t.isoformat()})
        truth += [{"image": rel, "camera": camera.name, "timestamp": t,
                   "type": v.type, "colour": v.colour,
                   "x0": v.x0, "y0": v.y0, "x1": v.x1, "y1": v.y1,
                   "occluded": v.occluded, "small": v.small} for v in vehicles]
    return manifest, truth


def generate(output, cameras=6, frames_per_camera=40, seed=2026, workers=None,
             geometry="mixed", frozen_cameras=0, scale=1):
    """Write the sample set; returns (images written, vehicles in the truth).
    The first ``frozen_cameras`` cameras freeze half-way: from then on they
    repeat one frame.  ``scale``: elevated frames that many times 640x360
    (``scenes.make_camera`` refuses it for a top-down camera)."""
    os.makedirs(output, exist_ok=True)
    jobs = [(output, seed, i, frames_per_camera, geometry, i < frozen_cameras, scale)
            for i in range(cameras)]
    workers = workers or min(cameras, os.cpu_count() or 1)
    if workers > 1:
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_render_camera, jobs))
    else:
        parts = [_render_camera(j) for j in jobs]
    manifest = [row for m, _ in parts for row in m]
    truth = [row for _, t in parts for row in t]
    with open(os.path.join(output, "manifest.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "camera", "timestamp"])
        w.writeheader()
        w.writerows(manifest)
    pq.write_table(pa.Table.from_pylist(truth, schema=TRUTH_SCHEMA),
                   os.path.join(output, "ground_truth.parquet"))
    return len(manifest), len(truth)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="generate_sample", description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True)
    ap.add_argument("--cameras", type=int, default=6)
    ap.add_argument("--frames-per-camera", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--geometry", choices=scenes.GEOMETRIES, default="mixed",
                    help="top-down: a camera straight above the road; elevated: perspective "
                         "cameras 6-15 m up looking along the road; mixed: every third camera "
                         "top-down, the others elevated (default: mixed)")
    ap.add_argument("--frozen-cameras", type=int, default=0, metavar="N",
                    help="the first N cameras freeze half-way and repeat one frame")
    ap.add_argument("--scale", type=int, default=1, metavar="N",
                    help="elevated frames N times 640x360 (2: 1280x720, 3: 1920x1080): the "
                         "same scenes, drawn as a sharper camera would see them (default 1)")
    a = ap.parse_args(argv)
    if a.cameras < 1 or a.frames_per_camera < 1:
        ap.error("--cameras and --frames-per-camera must be at least 1")
    if not 0 <= a.frozen_cameras <= a.cameras:
        ap.error("--frozen-cameras must be between 0 and --cameras")
    if a.scale < 1:
        ap.error("--scale must be at least 1")
    if a.scale != 1 and a.geometry != "elevated":
        ap.error("--scale above 1 needs --geometry elevated (top-down scenes are drawn at 640x360)")
    images, vehicles = generate(a.output, a.cameras, a.frames_per_camera, a.seed,
                                geometry=a.geometry, frozen_cameras=a.frozen_cameras,
                                scale=a.scale)
    print(f"wrote {images} images with {vehicles} vehicles to {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
