"""Accuracy of a run against ground truth: counts, matching, colours.

Detections and true vehicles are matched per image, greedily by IoU (highest
first), at IoU >= 0.5.  Per type: the true and counted totals and their
relative error; precision and recall, where a match counts only if the type
is right too; and colour accuracy over all matched vehicles.

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


def evaluate(truth, found, threshold=0.5):
    """truth, found: pandas DataFrames with image, type, colour, x0, y0, x1, y1
    (truth optionally with occluded and small).

    Returns {"types": {type: {...}}, "colour_accuracy": float, "matched": n,
    "excused": n}.
    """
    cols = ["x0", "y0", "x1", "y1"]
    per_type = {t: {"true": 0, "counted": 0, "correct": 0} for t in VEHICLE_TYPES}
    colour_right = matched = excused_found = 0
    truth = truth.assign(_excused=_excused(truth))
    found_by_image = dict(tuple(found.groupby("image")))
    for t in truth.loc[~truth["_excused"], "type"]:
        per_type[t]["true"] += 1
    for t in found["type"]:
        per_type.setdefault(t, {"true": 0, "counted": 0, "correct": 0})["counted"] += 1
    for image, tr in truth.groupby("image"):
        fo = found_by_image.get(image)
        if fo is None:
            continue
        for i, j in match(tr[cols].to_numpy(), fo[cols].to_numpy(), threshold):
            a, b = tr.iloc[i], fo.iloc[j]
            if a["_excused"]:
                per_type[b["type"]]["counted"] -= 1
                excused_found += 1
                continue
            matched += 1
            colour_right += a["colour"] == b["colour"]
            if a["type"] == b["type"]:
                per_type[a["type"]]["correct"] += 1
    types = {}
    for t, c in per_type.items():
        types[t] = {
            "true": c["true"], "counted": c["counted"],
            "count_error": (c["counted"] - c["true"]) / c["true"] if c["true"] else None,
            "precision": c["correct"] / c["counted"] if c["counted"] else None,
            "recall": c["correct"] / c["true"] if c["true"] else None,
        }
    return {"types": types, "matched": matched, "excused": excused_found,
            "colour_accuracy": colour_right / matched if matched else None}
