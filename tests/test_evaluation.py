import pandas as pd

from pipelines.evaluate import format_breakdown, format_cameras, format_report
from traffic.evaluation import breakdown, evaluate, iou_matrix, match, per_camera, size_band


def test_iou_and_greedy_matching():
    assert iou_matrix([(0, 0, 10, 10)], [(5, 0, 15, 10)])[0, 0] == 50 / 150
    # the best pair is taken first, each box at most once
    assert match([(0, 0, 10, 10), (20, 0, 30, 10)],
                 [(21, 0, 31, 10), (1, 0, 11, 10), (100, 0, 110, 10)]) == [(0, 1), (1, 0)]
    assert match([(0, 0, 10, 10)], [(8, 0, 18, 10)]) == []  # IoU 0.11


def test_evaluate_counts_types_and_colours():
    row = lambda img, t, c, x: {"image": img, "type": t, "colour": c,  # noqa: E731
                                "x0": x, "y0": 0, "x1": x + 10, "y1": 10}
    truth = pd.DataFrame([row("a", "car", "red", 0), row("a", "bus", "white", 50),
                          row("b", "car", "blue", 0)])
    found = pd.DataFrame([row("a", "car", "red", 1), row("a", "truck", "grey", 50),
                          row("b", "car", "blue", 40)])
    r = evaluate(truth, found)
    assert r["matched"] == 2 and r["colour_accuracy"] == 0.5
    assert r["types"]["car"] == {"true": 2, "counted": 2, "count_error": 0.0,
                                 "precision": 0.5, "recall": 0.5}
    assert r["types"]["bus"]["recall"] == 0.0 and r["types"]["truck"]["precision"] == 0.0


def test_occluded_and_small_vehicles_are_neither_required_nor_counted_against():
    row = lambda t, x, **flags: {"image": "a", "type": t, "colour": "red", "x0": x,  # noqa: E731
                                 "y0": 0, "x1": x + 10, "y1": 10, **flags}
    truth = pd.DataFrame([row("car", 0, occluded=False, small=False),
                          row("car", 50, occluded=True, small=False),
                          row("bus", 100, occluded=False, small=True),
                          row("car", 150, occluded=True, small=False)])
    found = pd.DataFrame([row("car", 0), row("car", 51), row("truck", 100), row("car", 300)])
    r = evaluate(truth, found)
    # required: one car; the detections on the hidden car and the tiny bus are left out;
    # the one at x=300 matches nothing and stays a false positive; the missed hidden car is excused
    assert r["types"]["car"] == {"true": 1, "counted": 2, "count_error": 1.0,
                                 "precision": 0.5, "recall": 1.0}
    assert r["types"]["truck"]["counted"] == 0 and r["types"]["bus"]["true"] == 0
    assert r["matched"] == 1 and r["excused"] == 2


def _row(img, t, c, x, w=10, **flags):
    return {"image": img, "type": t, "colour": c, "x0": x, "y0": 0, "x1": x + w, "y1": w, **flags}


def test_colour_accuracy_per_true_type():
    truth = pd.DataFrame([_row("a", "car", "red", 0), _row("a", "car", "blue", 50),
                          _row("a", "truck", "white", 100, 30)])
    found = pd.DataFrame([_row("a", "car", "red", 0), _row("a", "car", "grey", 50),
                          _row("a", "bus", "white", 100, 30)])
    r = evaluate(truth, found)
    # over the matched vehicles of each true type, whatever type they were found as
    assert r["colour_by_type"] == {"car": 0.5, "truck": 1.0, "bus": None, "motorcycle": None}
    assert r["colour_accuracy"] == 2 / 3


def test_breakdown_says_what_each_true_vehicle_became():
    truth = pd.DataFrame([
        _row("a", "car", "red", 0, 12, small=False),     # found as a car, colour right
        _row("a", "car", "white", 50, 12, small=False),  # found as a car, named silver
        _row("a", "bus", "white", 100, 45, small=False),  # found as a truck
        _row("a", "car", "blue", 200, 25, small=False),   # a detection placed half off it
        _row("a", "car", "black", 300, 20, small=False),  # nothing near it
        _row("a", "car", "grey", 400, 8, small=True),     # small: not required
    ])
    found = pd.DataFrame([_row("a", "car", "red", 0, 12), _row("a", "car", "silver", 50, 12),
                          _row("a", "truck", "white", 101, 45), _row("a", "car", "blue", 212, 25),
                          _row("a", "car", "grey", 400, 8), _row("a", "car", "red", 600)])
    b = breakdown(truth, found)
    assert b["types"]["car"] == {"car": 2, "overlapped": 1, "missed": 1}
    assert b["types"]["bus"] == {"truck": 1} and b["types"]["truck"] == {}
    assert b["sizes"]["car"] == {"0-12 px": {"true": 2, "correct": 2},
                                 "20-39 px": {"true": 2, "correct": 0}}
    assert b["sizes"]["bus"] == {"40+ px": {"true": 1, "correct": 0}}
    assert b["colours"] == {"red": {"red": 1}, "white": {"silver": 1, "white": 1}}
    # the text tables carry the same figures
    text = format_breakdown(b)
    assert "overlapped" in text and "100.0 (2)" in text and "0.0 (1)" in text


def test_size_bands():
    assert [size_band(s) for s in (0, 12, 13, 19, 20, 39, 40, 500)] == [
        "0-12 px", "0-12 px", "13-19 px", "13-19 px", "20-39 px", "20-39 px", "40+ px", "40+ px"]


def test_every_type_together_and_each_camera_on_its_own():
    truth = pd.DataFrame([
        _row("a", "car", "red", 0, camera="east"), _row("a", "bus", "white", 50, camera="east"),
        _row("b", "car", "blue", 0, camera="west"), _row("b", "truck", "grey", 50, camera="west"),
        _row("b", "car", "grey", 100, small=True, camera="west"),
    ])
    found = pd.DataFrame([
        _row("a", "car", "red", 0, camera="east"), _row("a", "truck", "white", 50, camera="east"),
        _row("b", "car", "black", 0, camera="west"), _row("b", "truck", "grey", 50, camera="west"),
        _row("b", "car", "grey", 100, camera="west"), _row("b", "car", "red", 300, camera="west"),
    ])
    r = evaluate(truth, found)
    # four required vehicles, five counted (the small car's detection is left out),
    # three of them the right type where they stand (the bus was found as a truck)
    assert r["all"] == {"true": 4, "counted": 5, "count_error": 0.25, "precision": 0.6, "recall": 0.75}
    assert "all types" in format_report(r)
    cams = per_camera(truth, found)
    assert list(cams) == ["east", "west"]
    assert cams["east"]["all"] == {"true": 2, "counted": 2, "count_error": 0.0, "precision": 0.5, "recall": 0.5}
    assert cams["west"]["all"] == {"true": 2, "counted": 3, "count_error": 0.5,
                                   "precision": 2 / 3, "recall": 1.0}
    assert cams["east"]["colour_by_type"]["car"] == 1.0 and cams["west"]["colour_by_type"]["car"] == 0.0
    # the cameras' figures add up to the run's
    for k in ("true", "counted"):
        assert sum(c["all"][k] for c in cams.values()) == r["all"][k]
    lines = format_cameras(cams).splitlines()
    east = next(line for line in lines if line.startswith("east")).split()
    assert east[:5] == ["east", "2", "2", "50.0", "50.0"] and east[-1] == "100.0"
