"""How good were the tags?  Compare a run's vehicles with ground truth.

    python -m pipelines.evaluate --output DIR --ground-truth FILE [--json FILE]

Ground-truth image paths are relative to the ground-truth file's folder (as
generate_sample writes them); the run's are absolute.  Prints, per type, the
true and counted totals, count error, precision and recall (IoU >= 0.5 and the
right type), and colour accuracy over the matched vehicles.
"""

import argparse
import json
import os
import sys

import pandas as pd

from pipelines.outputs import read_table
from traffic.evaluation import evaluate


def load(output, ground_truth):
    found = read_table(output, "vehicles")
    truth = pd.read_parquet(ground_truth)
    base = os.path.dirname(os.path.abspath(ground_truth))
    truth["image"] = [p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))
                      for p in truth["image"]]
    # only images the run processed count (a run may cover part of a set)
    images = read_table(output, "images")
    done = set(images.loc[images["status"] == "tagged", "image"])
    return truth[truth["image"].isin(done)], found


def format_report(result):
    pct = lambda x: "   n/a" if x is None else f"{x * 100:6.1f}"  # noqa: E731
    lines = [f"{'type':<12}{'true':>7}{'counted':>9}{'error %':>9}{'precision %':>13}{'recall %':>10}"]
    for t, r in result["types"].items():
        err = "    n/a" if r["count_error"] is None else f"{r['count_error'] * 100:+7.1f}"
        lines.append(f"{t:<12}{r['true']:>7}{r['counted']:>9}{err:>9}"
                     f"{pct(r['precision']):>13}{pct(r['recall']):>10}")
    lines.append(f"colour accuracy over {result['matched']} matched vehicles: "
                 f"{pct(result['colour_accuracy']).strip()} %")
    if result.get("excused"):
        lines.append(f"left out: {result['excused']} detections of occluded or small vehicles "
                     "(neither required nor counted against)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True, help="the run's output folder")
    ap.add_argument("--ground-truth", required=True, help="ground_truth.parquet")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args(argv)
    for path in (os.path.join(a.output, "vehicles"), a.ground_truth):
        if not os.path.exists(path):
            print(f"evaluate: error: {path} does not exist", file=sys.stderr)
            return 2
    result = evaluate(*load(a.output, a.ground_truth))
    print(format_report(result))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
