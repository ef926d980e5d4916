"""What tagging one frame costs, per tagger, beside decoding it: the domain
functions alone (no Beam), on generated frames of each camera geometry.

    python -m benchmarks.tag_cost [--cameras 3] [--frames 20] [--json FILE]

For each geometry: the median milliseconds per frame of decoding at the
tagger's working size, of the constant-scale (top-down) tagger, and, on
elevated cameras, of the perspective tagger with the camera model learned
from the camera's own sample frames (learning it, and laying out the outlines
of the vehicles its road can hold, are per-camera costs, also reported),
searching the full-size frame as the job does (and at half size, as
``--search-width 320`` does), and of that second, full-size decode.
"""

import argparse
import functools
import json
import os
import statistics
import tempfile
import time

from pipelines.generate_sample import generate
from traffic import background as bg
from traffic import camera_model, lanes, perspective
from traffic.markings import calibrate, is_perspective
from traffic.perspective import evidence
from traffic.imaging import decode_image


def _ms(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t) * 1000, out


HALF_WIDTH = 320  # --search-width: the generator's 640x360 frames searched at half size


def measure(folder):
    decode, full_decode, top_down, persp, learn, outlines = [], [], [], [], [], []
    half, half_outlines = [], []
    images = os.path.join(folder, "images")
    for camera in sorted(os.listdir(images)):
        paths = sorted(os.path.join(images, camera, f) for f in os.listdir(os.path.join(images, camera)))
        frames, jpegs = [], []
        for p in paths:
            with open(p, "rb") as f:
                data = f.read()
            ms, d = _ms(functools.partial(decode_image, width=bg.WORK_WIDTH), data)
            decode.append(ms)
            frames.append(d)
            jpegs.append(data)
        road = bg.background_from_samples([(bg.sample_rank(camera, p), d.pixels)
                                           for p, d in zip(paths, frames)])
        geometry = calibrate(road)
        model = None
        if is_perspective(geometry):
            t = time.perf_counter()
            blobs = [b for d in frames[:bg.DEFAULT_SAMPLES]
                     for b in evidence.isolated_blobs(d.pixels, road)]
            model, _ = camera_model.learn_camera(geometry, blobs)
            centres = () if model is None else lanes.learn_lanes(road, model, blobs)
            learn.append((time.perf_counter() - t) * 1000)
        view = None
        if model is not None:
            full_shape = (frames[0].height, frames[0].width)
            ms, view = _ms(perspective.perspective_camera, model, road, centres, full_shape)
            outlines.append(ms)
            ms, view_half = _ms(perspective.perspective_camera, model, road, centres, full_shape, HALF_WIDTH)
            half_outlines.append(ms)
        for d, data in zip(frames, jpegs):
            top_down.append(_ms(bg.find_vehicles, d.pixels, road, d.scale)[0])
            if view is not None:
                ms, full = _ms(decode_image, data)
                full_decode.append(ms)
                persp.append(_ms(perspective.find_vehicles, full.pixels, view)[0])
                half.append(_ms(perspective.find_vehicles, full.pixels, view_half)[0])
    med = lambda xs: round(statistics.median(xs), 2) if xs else None  # noqa: E731
    return {"frames": len(decode), "decode_ms_per_image": med(decode),
            "top_down_tag_ms_per_image": med(top_down),
            "perspective_tag_ms_per_image": med(persp),
            f"perspective_tag_ms_per_image_at_search_width_{HALF_WIDTH}": med(half),
            "full_size_decode_ms_per_image": med(full_decode),
            "camera_model_ms_per_camera": med(learn),
            "outlines_ms_per_camera": med(outlines),
            f"outlines_ms_per_camera_at_search_width_{HALF_WIDTH}": med(half_outlines)}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tag_cost", description=__doc__.split("\n")[0])
    ap.add_argument("--cameras", type=int, default=3)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for geometry in ("top-down", "elevated"):
            folder = os.path.join(work, geometry)
            generate(folder, cameras=a.cameras, frames_per_camera=a.frames, seed=a.seed,
                     geometry=geometry)
            results[geometry] = measure(folder)
            print(geometry, results[geometry], flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
