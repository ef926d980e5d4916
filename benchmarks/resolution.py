"""How the tagger holds on frames larger than the generator's 640 x 360:
one generated sample set, and copies of it with every frame resized N times
(bicubic, saved as JPEG at quality 90) and its true boxes with it, or with
``--native`` the same scenes drawn N times the size (``generate_sample
--scale N``, elevated cameras only), each tagged by ``benchmarks.hand_loop``
(the job without Beam, the same outputs) and scored as
``pipelines.evaluate`` scores it.

    python -m benchmarks.resolution --seed N [--geometry elevated] [--cameras 6]
        [--frames 40] [--factors 1,2,3] [--native] [--json FILE]

A resized frame has no more detail than the original, so a tagger that
works the same at every size scores about the same on each copy.  A frame
drawn larger has more: far vehicles are more pixels across, and the
ground truth's ``small`` (under 10 px) excuses fewer of them.  Per size,
one line: all-type recall and precision, each type's count error, car
colour, and the loop's wall time per frame (decoding the larger frames
included).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import pandas as pd
from PIL import Image

import scenes
from scenes.common import HEIGHT, WIDTH
from benchmarks import hand_loop
from pipelines.evaluate import load
from pipelines.generate_sample import generate
from traffic.evaluation import evaluate
from traffic.vocabulary import VEHICLE_TYPES

BOX = ("x0", "y0", "x1", "y1")


def resized_copy(folder, out, factor, quality=90):
    """``folder`` (a sample set) with every frame ``factor`` times the size
    and its ground truth's boxes with it, written to ``out``.  The truth's
    flags stay as they were: a vehicle too small to type at 640x360 is no
    easier to type resized."""
    shutil.copytree(folder, out, ignore=shutil.ignore_patterns("*.jpg", "ground_truth.parquet"))
    images = os.path.join(folder, "images")
    for camera in sorted(os.listdir(images)):
        for name in sorted(os.listdir(os.path.join(images, camera))):
            with Image.open(os.path.join(images, camera, name)) as im:
                big = im.convert("RGB").resize((im.width * factor, im.height * factor), Image.BICUBIC)
                big.save(os.path.join(out, "images", camera, name), quality=quality)
    truth = pd.read_parquet(os.path.join(folder, "ground_truth.parquet"))
    for column in BOX:
        truth[column] = truth[column] * factor
    truth.to_parquet(os.path.join(out, "ground_truth.parquet"), index=False)


def score(folder, work):
    """(evaluate's figures, wall seconds per frame) of ``hand_loop`` on a
    sample set."""
    output = os.path.join(work, "out")
    shutil.rmtree(output, ignore_errors=True)
    frames = len(pd.read_csv(os.path.join(folder, "manifest.csv")))
    t = time.perf_counter()
    hand_loop.run(folder, output)
    seconds = (time.perf_counter() - t) / frames
    truth, found = load(output, os.path.join(folder, "ground_truth.parquet"))
    return evaluate(truth, found), seconds


def line(factor, size, result, seconds):
    a = result["all"]
    counts = " ".join(f"{t} {100 * result['types'][t]['count_error']:+.1f}"
                      for t in VEHICLE_TYPES if result["types"][t]["count_error"] is not None)
    car = result["colour_by_type"].get("car")
    return (f"x{factor} {size}: recall {100 * a['recall']:.1f} % precision {100 * a['precision']:.1f} %"
            f" | count error % {counts} | car colour "
            f"{'-' if car is None else f'{100 * car:.1f} %'} | {seconds:.2f} s/frame")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="resolution", description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--geometry", choices=scenes.GEOMETRIES, default="elevated")
    ap.add_argument("--cameras", type=int, default=6)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--factors", default="1,2,3", help="comma-separated whole factors")
    ap.add_argument("--native", action="store_true",
                    help="draw the scenes at each size rather than resize the 640x360 frames "
                         "(elevated only)")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args(argv)
    try:
        factors = [int(f) for f in a.factors.split(",")]
        if not factors or min(factors) < 1:
            raise ValueError
    except ValueError:
        ap.error(f"--factors must be whole numbers of at least 1, not {a.factors!r}")
    if a.native and a.geometry != "elevated":
        ap.error("--native needs --geometry elevated (top-down scenes are drawn at 640x360)")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        original = os.path.join(work, "x1")
        generate(original, cameras=a.cameras, frames_per_camera=a.frames, seed=a.seed,
                 geometry=a.geometry)
        for factor in factors:
            folder = original
            if factor != 1:
                folder = os.path.join(work, f"x{factor}")
                if a.native:
                    generate(folder, cameras=a.cameras, frames_per_camera=a.frames, seed=a.seed,
                             geometry=a.geometry, scale=factor)
                else:
                    resized_copy(original, folder, factor)
            result, seconds = score(folder, work)
            size = f"{WIDTH * factor}x{HEIGHT * factor}"
            print(line(factor, size, result, seconds), flush=True)
            results[size] = {"factor": factor, "seconds_per_frame": round(seconds, 3), **result}
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seed": a.seed, "geometry": a.geometry, "native": a.native,
                       "sizes": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
