"""The same job as a plain single-process Python loop, without Beam.

    python -m benchmarks.hand_loop --input-dir DIR --output DIR

Reads DIR/manifest.csv, decodes and tags every image with the background
tagger, reduces per camera, per window and overall, and writes the same
outputs as the job (vehicles/, images/, windows/ Parquet, dead_letter/,
summary.json):
the loop a user would write instead of the pipeline, calling the same domain
modules, so that benchmarks compare the cost of Beam and not of two different
taggers.  Its summary equals the pipeline's on the same input (tested).
"""

import argparse
import csv
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from traffic import background as bg
from traffic.calibration import camera_geometry
from traffic.imaging import UnreadableImage, decode_image
from traffic.perspective import SEARCH_MAX_WIDTH, frame_tagger
from traffic.perspective.evidence import empty_road_and_blobs
from traffic import records
from traffic.records import ImageStatus, Vehicle, WindowCount, window_of
from traffic.stats import VehicleStats
from traffic.summary import build_summary, dumps
from traffic.vocabulary import VEHICLE_TYPES


def run(input_dir, output, samples=bg.DEFAULT_SAMPLES, window_minutes=15.0,
        pixels_per_metre=None, search_width=SEARCH_MAX_WIDTH):
    with open(os.path.join(input_dir, "manifest.csv")) as f:
        rows = [(os.path.abspath(os.path.join(input_dir, r["path"])), r["camera"], r["timestamp"])
                for r in csv.DictReader(f)]
    cameras = {}
    for image, camera, ts in rows:
        cameras.setdefault(camera, []).append((image, ts))
    taggers = {}
    for camera, images in cameras.items():
        ranked = sorted((bg.sample_rank(camera, image), image) for image, _ in images)
        decoded = []
        for rank, image in ranked[:2 * samples]:
            try:
                with open(image, "rb") as f:
                    d = decode_image(f.read(), width=bg.WORK_WIDTH)
            except (OSError, UnreadableImage):
                continue
            decoded.append((rank, d.pixels, round(d.scale)))
        road, sampled, blobs = empty_road_and_blobs([(r, p) for r, p, _ in decoded], samples)
        reduce = bg.road_reduce([(p, s) for _, p, s in decoded], road)
        taggers[camera] = frame_tagger(
            camera_geometry(camera, road, sampled, reduce, blobs, pixels_per_metre),
            road, pixels_per_metre, search_width=search_width)
    per_camera, windows, counts = {}, {}, {"tagged": 0, "failed": 0}
    vehicle_rows, image_rows, dead = [], [], []
    for camera, images in cameras.items():
        stats = per_camera.setdefault(camera, VehicleStats())
        for image, ts in images:
            try:
                with open(image, "rb") as f:
                    data = f.read()
                d = decode_image(data, width=bg.WORK_WIDTH)
                found = taggers[camera](d.pixels, d.scale, lambda: decode_image(data).pixels)
            except (OSError, UnreadableImage) as e:
                counts["failed"] += 1
                dead.append({"image": image, "stage": "decode", "error": str(e)})
                image_rows.append(records.image_row(ImageStatus(
                    image, camera, ts, None, None, None, "failed", True, "decode", str(e), 1, 1)))
                continue
            counts["tagged"] += 1
            vehicles = [Vehicle(image, camera, ts, v.type, v.colour, v.score, v.x0, v.y0, v.x1, v.y1)
                        for v in found]
            stats.add_image(vehicles)
            vehicle_rows += [records.vehicle_row(v) for v in vehicles]
            image_rows.append(records.image_row(ImageStatus(
                image, camera, ts, d.width, d.height, len(vehicles), "tagged", True, None, None, 1, 1)))
            w = windows.setdefault((camera, *window_of(ts, window_minutes)), [0, {}])
            w[0] += 1
            for v in found:
                w[1][v.type] = w[1].get(v.type, 0) + 1
    overall = VehicleStats()
    for stats in per_camera.values():
        overall.merge(stats)
    window_counts = [WindowCount(c, s, e, n, {t: by.get(t, 0) for t in VEHICLE_TYPES})
                     for (c, s, e), (n, by) in windows.items()]
    image_counts = {"inputs": counts["tagged"] + counts["failed"], **counts,
                    "missing": 0, "unexpected": 0, "duplicate_matches": 0, "expected": len(rows),
                    "duplicate_manifest_rows": 0}
    summary = build_summary(image_counts, overall, per_camera, window_counts,
                            {"tagger": "background", "window_minutes": window_minutes})
    # the same tables as the job, then the summary
    tables = {"vehicles": (vehicle_rows, records.VEHICLES_SCHEMA),
              "images": (image_rows, records.IMAGES_SCHEMA),
              "windows": ([r for w in window_counts for r in records.window_rows(w)],
                          records.WINDOWS_SCHEMA)}
    for name, (rows, schema) in tables.items():
        os.makedirs(os.path.join(output, name), exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema),
                       os.path.join(output, name, "part-00000-of-00001.parquet"), compression="snappy")
    os.makedirs(os.path.join(output, "dead_letter"), exist_ok=True)
    with open(os.path.join(output, "dead_letter", "part-00000-of-00001.jsonl"), "w") as f:
        f.writelines(json.dumps(d) + "\n" for d in dead)
    with open(os.path.join(output, "summary.json"), "w") as f:
        f.write(dumps(summary))
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hand_loop", description=__doc__.split("\n")[0])
    ap.add_argument("--input-dir", required=True, help="a folder made by generate_sample")
    ap.add_argument("--output", required=True)
    ap.add_argument("--search-width", type=int, default=SEARCH_MAX_WIDTH,
                    help="the job's --search-width (default: %(default)s)")
    a = ap.parse_args(argv)
    run(a.input_dir, a.output, search_width=a.search_width)
    return 0


if __name__ == "__main__":
    sys.exit(main())
