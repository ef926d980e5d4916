"""Accuracy of a run against ground truth: counts, matching, colours.

Detections and true vehicles are matched per image, greedily by IoU (highest
first), at IoU >= 0.5.  Per type: the true and counted totals and their
relative error; precision and recall, where a match counts only if the type
is right too; and colour accuracy over all matched vehicles.

``breakdown`` says where the misses are: what each true type was matched
as, or whether a missed vehicle was overlapped by a detection placed off it
or not found at all; recall by the size of the vehicle's box; and which
name each true colour was given.

Truth rows flagged ``occluded`` (less than half visible) or ``small`` (too few
pixels to type), where the truth has those columns, are neither required nor
counted against a tagger: they are not in the true totals, and a detection
matched to one is left out of the counted totals too.
"""

import numpy as np

from traffic.vocabulary import VEHICLE_TYPES


def iou_matrix(a, b):
    """IoU of every box in a (N,4) with every box in b (M,4); x1/y1 exclusive."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def match(truth_boxes, found_boxes, threshold=0.5):
    """Greedy one-to-one matching: [(truth index, found index)]."""
    if len(truth_boxes) == 0 or len(found_boxes) == 0:
        return []
    iou = iou_matrix(truth_boxes, found_boxes)
    pairs = []
    used_t, used_f = set(), set()
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        t, f = divmod(int(flat), iou.shape[1])
        if iou[t, f] < threshold:
            break
        if t not in used_t and f not in used_f:
            used_t.add(t)
            used_f.add(f)
            pairs.append((t, f))
    return pairs


def _excused(truth):
    flags = [c for c in ("occluded", "small") if c in truth.columns]
    if not flags:
        return np.zeros(len(truth), dtype=bool)
    return truth[flags].fillna(False).astype(bool).any(axis=1).to_numpy()


def _matched(truth, found, threshold):
    """Per image of ``truth`` (with ``_excused``): (its truth rows, its
    detections or None, the matched pairs)."""
    cols = ["x0", "y0", "x1", "y1"]
    found_by_image = dict(tuple(found.groupby("image")))
    for image, tr in truth.groupby("image"):
        fo = found_by_image.get(image)
        pairs = [] if fo is None else match(tr[cols].to_numpy(), fo[cols].to_numpy(), threshold)
        yield tr, fo, pairs


def evaluate(truth, found, threshold=0.5):
    """truth, found: pandas DataFrames with image, type, colour, x0, y0, x1, y1
    (truth optionally with occluded and small).

    Returns {"types": {type: {...}}, "all": {...} (every type together: a
    detection is correct where it matches a vehicle of its own type),
    "colour_accuracy": float, "colour_by_type": {true type: float},
    "matched": n, "excused": n}.
    """
    per_type = {t: {"true": 0, "counted": 0, "correct": 0} for t in VEHICLE_TYPES}
    colour_right = matched = excused_found = 0
    named = {t: [0, 0] for t in VEHICLE_TYPES}  # per true type: matched, colour right
    truth = truth.assign(_excused=_excused(truth))
    for t in truth.loc[~truth["_excused"], "type"]:
        per_type[t]["true"] += 1
    for t in found["type"]:
        per_type.setdefault(t, {"true": 0, "counted": 0, "correct": 0})["counted"] += 1
    for tr, fo, pairs in _matched(truth, found, threshold):
        for i, j in pairs:
            a, b = tr.iloc[i], fo.iloc[j]
            if a["_excused"]:
                per_type[b["type"]]["counted"] -= 1
                excused_found += 1
                continue
            matched += 1
            colour_right += a["colour"] == b["colour"]
            named.setdefault(a["type"], [0, 0])[0] += 1
            named[a["type"]][1] += int(a["colour"] == b["colour"])
            if a["type"] == b["type"]:
                per_type[a["type"]]["correct"] += 1
    types = {t: _figures(**c) for t, c in per_type.items()}
    every = {k: sum(c[k] for c in per_type.values()) for k in ("true", "counted", "correct")}
    return {"types": types, "all": _figures(**every), "matched": matched, "excused": excused_found,
            "colour_accuracy": colour_right / matched if matched else None,
            "colour_by_type": {t: right / n if n else None for t, (n, right) in named.items()}}


def _figures(true, counted, correct):
    """Count error, precision and recall of ``correct`` detections among
    ``counted``, against ``true`` vehicles (None where undefined)."""
    return {"true": true, "counted": counted,
            "count_error": (counted - true) / true if true else None,
            "precision": correct / counted if counted else None,
            "recall": correct / true if true else None}


def per_camera(truth, found, threshold=0.5):
    """``evaluate`` for each camera of ``truth`` on its own: {camera:
    result}.  Both frames need a ``camera`` column."""
    return {camera: evaluate(tr, found[found["camera"] == camera], threshold)
            for camera, tr in truth.groupby("camera", sort=True)}


# The bands of a true box's shorter side (full-size pixels) recall is given
# for: under 13, 13-19, 20-39 and 40 or more (vehicles under 10 px are
# ``small``: the generator flags them, and the tagger does not type them).
SIZE_BANDS = (13, 20, 40)
OVERLAP = 0.1  # IoU: a missed vehicle a detection overlaps this much was placed off, not missed


def size_band(short):
    """The label of the size band a box's shorter side falls in."""
    edges = (0,) + SIZE_BANDS + (None,)
    for lo, hi in zip(edges, edges[1:]):
        if hi is None or short < hi:
            return f"{lo}+ px" if hi is None else f"{lo}-{hi - 1} px"


def breakdown(truth, found, threshold=0.5):
    """Where a tagger's misses are, over the required true vehicles (as
    ``evaluate`` matches them):

    - ``types``: per true type, how many were matched as each type, and of
      the rest, how many a detection overlaps at IoU >= OVERLAP
      (``overlapped``: placed off, or part of a larger box) and how many
      none does (``missed``);
    - ``sizes``: per true type and band of its box's shorter side
      (``size_band``), the true count and the count matched with the right
      type;
    - ``colours``: per true colour, how many of the matched vehicles were
      given each name.
    """
    cols = ["x0", "y0", "x1", "y1"]
    types = {t: {} for t in VEHICLE_TYPES}
    sizes = {t: {} for t in VEHICLE_TYPES}
    colours = {}
    truth = truth.assign(_excused=_excused(truth))

    def add(table, key, n=1):
        table[key] = table.get(key, 0) + n

    for tr, fo, pairs in _matched(truth, found, threshold):
        as_found = dict(pairs)
        near = (np.zeros(len(tr)) if fo is None else
                iou_matrix(tr[cols].to_numpy(), fo[cols].to_numpy()).max(axis=1))
        for i in range(len(tr)):
            a = tr.iloc[i]
            if a["_excused"]:
                continue
            band = sizes.setdefault(a["type"], {}).setdefault(
                size_band(min(a["x1"] - a["x0"], a["y1"] - a["y0"])), {"true": 0, "correct": 0})
            band["true"] += 1
            if i in as_found:
                b = fo.iloc[as_found[i]]
                add(types.setdefault(a["type"], {}), b["type"])
                add(colours.setdefault(a["colour"], {}), b["colour"])
                band["correct"] += int(a["type"] == b["type"])
            else:
                add(types.setdefault(a["type"], {}), "overlapped" if near[i] >= OVERLAP else "missed")
    for t in sizes:
        sizes[t] = dict(sorted(sizes[t].items(), key=lambda kv: int(kv[0].split("-")[0].split("+")[0])))
    return {"types": types, "sizes": sizes, "colours": colours}
