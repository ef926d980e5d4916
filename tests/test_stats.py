"""VehicleStats: exact values, and the property that makes it a safe reducer."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from traffic.records import Vehicle
from traffic.stats import VehicleStats
from traffic.vocabulary import COLOURS, VEHICLE_TYPES

vehicles = st.builds(
    lambda t, c, s, x, y, w, h: Vehicle("img", "cam", None, t, c, s, x, y, x + w, y + h),
    st.sampled_from(VEHICLE_TYPES), st.sampled_from(COLOURS),
    st.floats(0, 1, allow_nan=False).map(lambda s: round(s, 4)),
    st.integers(0, 600), st.integers(0, 300), st.integers(1, 200), st.integers(1, 60))
images = st.lists(st.lists(vehicles, max_size=6).map(tuple), max_size=30)


def reduce_all(imgs):
    acc = VehicleStats()
    for vs in imgs:
        acc.add_image(vs)
    return acc


@settings(max_examples=200, deadline=None)
@given(images, st.data())
def test_any_split_and_any_merge_order_gives_the_same_result(imgs, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(imgs)), max_size=6)))
    bounds = [0, *cuts, len(imgs)]
    partials = [reduce_all(imgs[a:b]) for a, b in zip(bounds, bounds[1:])]
    order = data.draw(st.permutations(range(len(partials))))
    # merge in a random order, as a tree of random shape
    pool = [partials[i] for i in order]
    while len(pool) > 1:
        i = data.draw(st.integers(0, len(pool) - 2))
        pool[i:i + 2] = [pool[i].merge(pool[i + 1])]
    assert pool[0].to_dict() == reduce_all(imgs).to_dict()


@given(images, images)
def test_merge_leaves_its_argument_untouched(a, b):
    left, right = reduce_all(a), reduce_all(b)
    before = copy.deepcopy(right.to_dict())
    left.merge(right)
    assert right.to_dict() == before


def test_exact_figures_of_a_small_set():
    v = lambda t, c, s, w, h: Vehicle("i", "c", None, t, c, s, 0, 0, w, h)  # noqa: E731
    acc = reduce_all([
        (v("car", "red", 0.9, 40, 20), v("car", "white", 0.8, 40, 20), v("bus", "yellow", 0.5, 120, 25)),
        (),
        (v("car", "red", 0.7, 45, 18),),
    ])
    d = acc.to_dict()
    assert d["total"] == 4
    assert d["by_type"] == {"car": 3, "truck": 0, "bus": 1, "motorcycle": 0}
    assert d["colours"]["car"] == {"white": 1, "red": 2}
    assert list(d["colours"]["car"]) == ["white", "red"]  # vocabulary order
    assert d["colours"]["truck"] == {}
    assert d["sums"] == {"images": 3, "vehicles": 4,
                         "box_area_px": {"car": 800 + 800 + 810, "truck": 0, "bus": 3000,
                                         "motorcycle": 0}}
    assert d["per_image"] == {"histogram": {"0": 1, "1": 1, "3": 1}, "mean": 1.3333, "max": 3}
    assert d["mean_score"] == {"car": 0.8, "bus": 0.5}


@given(images)
def test_compact_changes_nothing_but_drops_zero_counts(imgs):
    acc = reduce_all(imgs)
    before = acc.to_dict()
    acc.by_type["car"] += 0
    acc.colours.setdefault("bus", __import__("collections").Counter())
    assert acc.compact().to_dict() == before
    assert all(v for v in acc.by_type.values()) and all(acc.colours.values())
