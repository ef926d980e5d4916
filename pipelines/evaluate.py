"""How good were the tags?  Compare a run's vehicles with ground truth.

    python -m pipelines.evaluate --output DIR --ground-truth FILE [--json FILE] [--breakdown] [--per-camera]

Ground-truth image paths are relative to the ground-truth file's folder (as
generate_sample writes them); the run's are absolute.  Prints, per type, the
true and counted totals, count error, precision and recall (IoU >= 0.5 and the
right type), and colour accuracy over the matched vehicles; with
``--breakdown``, also where the misses are (``traffic.evaluation.breakdown``):
what each true type was matched as, overlapped by or missed; recall by box
size; and the names each true colour was given; with ``--per-camera``, the
figures of each camera on its own (a camera the tagger does badly on stands
out).
"""

import argparse
import json
import os
import sys

import pandas as pd

from pipelines.outputs import read_table
from traffic.evaluation import SIZE_BANDS, breakdown, evaluate, per_camera, size_band
from traffic.vocabulary import COLOURS, VEHICLE_TYPES


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


def _pct(x, sign=""):
    """A share as a percentage with one decimal ("n/a" for None)."""
    return "n/a" if x is None else f"{x * 100:{sign}.1f}"


def format_report(result):
    lines = [f"{'type':<12}{'true':>7}{'counted':>9}{'error %':>9}{'precision %':>13}{'recall %':>10}"]
    for t, r in list(result["types"].items()) + [("all types", result["all"])]:
        err = "    n/a" if r["count_error"] is None else f"{r['count_error'] * 100:+7.1f}"
        lines.append(f"{t:<12}{r['true']:>7}{r['counted']:>9}{err:>9}"
                     f"{_pct(r['precision']):>13}{_pct(r['recall']):>10}")
    by_type = ", ".join(f"{t} {_pct(c)}" for t, c in result.get("colour_by_type", {}).items()
                        if c is not None)
    lines.append(f"colour accuracy over {result['matched']} matched vehicles: "
                 f"{_pct(result['colour_accuracy'])} %" + (f" ({by_type})" if by_type else ""))
    if result.get("excused"):
        lines.append(f"left out: {result['excused']} detections of occluded or small vehicles "
                     "(neither required nor counted against)")
    return "\n".join(lines)


def _table(title, rows, columns, cell, width=11):
    lines = [f"{title:<12}" + "".join(f"{c:>{width}}" for c in columns)]
    lines += [f"{r:<12}" + "".join(f"{cell(r, c):>{width}}" for c in columns) for r in rows]
    return lines


def format_breakdown(result):
    """The text tables of a ``breakdown`` result."""
    types = result["types"]
    fates = VEHICLE_TYPES + ("overlapped", "missed")
    lines = ["", "what the required vehicles of each type were found as (overlapped: a detection "
             "overlaps it at IoU 0.1-0.5; missed: none does)"]
    lines += _table("true \\ as", [t for t in types if types[t]], fates,
                    lambda r, c: types[r].get(c, 0))
    bands = [size_band(lo) for lo in (0,) + SIZE_BANDS]
    sizes = result["sizes"]

    def recall(r, c):
        b = sizes[r].get(c)
        return "" if not b else f"{100 * b['correct'] / b['true']:.1f} ({b['true']})"
    lines += ["", "recall % (true count) by the shorter side of the true box"]
    lines += _table("type", [t for t in sizes if sizes[t]], bands, recall, width=14)
    colours = result["colours"]
    named = [c for c in COLOURS if c in colours or any(c in v for v in colours.values())]
    lines += ["", "the colour names matched vehicles were given (rows: true colour)"]
    lines += _table("true \\ as", [c for c in COLOURS if c in colours], named,
                    lambda r, c: colours[r].get(c, 0) or ".", width=7)
    return "\n".join(lines)


def format_cameras(cameras):
    """One line per camera of a ``per_camera`` result: every type together,
    each type's count error, and car colour."""
    columns = ("true", "counted", "precision %", "recall %") + tuple(
        f"{t} error %" for t in VEHICLE_TYPES) + ("car colour %",)
    widths = [max(len(c) + 2, 9) for c in columns]
    row = lambda name, cells: f"{name:<12}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))  # noqa: E731
    lines = ["", "per camera (every type together; each type's count error)", row("camera", columns)]
    for camera, r in cameras.items():
        a = r["all"]
        lines.append(row(camera, (a["true"], a["counted"], _pct(a["precision"]), _pct(a["recall"]))
                         + tuple(_pct(r["types"][t]["count_error"], "+") for t in VEHICLE_TYPES)
                         + (_pct(r["colour_by_type"].get("car")),)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True, help="the run's output folder")
    ap.add_argument("--ground-truth", required=True, help="ground_truth.parquet")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--breakdown", action="store_true",
                    help="also say where the misses are: types, box sizes, colour names")
    ap.add_argument("--per-camera", action="store_true",
                    help="also give the figures of each camera on its own")
    a = ap.parse_args(argv)
    for path in (os.path.join(a.output, "vehicles"), a.ground_truth):
        if not os.path.exists(path):
            print(f"evaluate: error: {path} does not exist", file=sys.stderr)
            return 2
    truth, found = load(a.output, a.ground_truth)
    result = evaluate(truth, found)
    print(format_report(result))
    if a.breakdown:
        result["breakdown"] = breakdown(truth, found)
        print(format_breakdown(result["breakdown"]))
    if a.per_camera:
        result["cameras"] = per_camera(truth, found)
        print(format_cameras(result["cameras"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
