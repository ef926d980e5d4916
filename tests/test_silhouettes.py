"""The outlines of vehicles on the road (traffic/silhouettes.py) and the search
that explains a frame with them (traffic/perspective/), on frames drawn
here with the camera model itself: vehicles as flat-painted boxes (a car a
body and a cabin) of known size and place, so every expected box is known
exactly."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from scipy import ndimage

from traffic import camera_model as cm
from traffic import lanes
from traffic import perspective
from traffic import silhouettes as sil
from traffic.perspective import evidence, search
from traffic.evaluation import iou_matrix

W, H = 320, 180
MODEL = cm.CameraModel(focal=250.0, pitch=math.radians(12), yaw=0.0, height=10.0, cx=W / 2, cy=H / 2)
ROAD_GREY = (112, 112, 116)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(-3, 8)), max_size=8))
def test_multi_arange_is_the_concatenated_ranges(pairs):
    starts = [a for a, _ in pairs]
    stops = [a + n for a, n in pairs]
    expected = [i for a, b in zip(starts, stops) for i in range(a, b)]
    assert sil.multi_arange(starts, stops).tolist() == expected


_BOX = st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(1, 20), st.integers(1, 20)).map(
    lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3]))


@settings(max_examples=200, deadline=None)
@given(_BOX, st.lists(_BOX, min_size=1, max_size=30), st.sampled_from((0.01, 0.3, 0.5, 1.0)))
def test_the_boxes_at_an_iou_are_those_iou_matrix_gives(box, boxes, threshold):
    box, boxes = np.array(box), np.array(boxes)
    assert (sil.iou_at_least(box, boxes, threshold) == (iou_matrix(box, boxes)[0] >= threshold)).all()


def _corners(x, y, size):
    length, width, height = size
    return np.array([[x + dx, y + dy, dz] for dx in (-width / 2, width / 2)
                     for dy in (-length / 2, length / 2) for dz in (0.0, height)])


def _hull(points):
    """Convex hull (counter-clockwise) of 2-D points: monotone chain."""
    pts = sorted(map(tuple, points))

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out
    return half(pts)[:-1] + half(pts[::-1])[:-1]


def test_an_outline_is_the_projected_vehicle():
    """An outline's pixels are those whose centres lie inside the convex
    hull of the projected corners of one of the vehicle's parts (a car's
    body and cabin, one box for the others): what PIL fills for the same
    polygons, up to its own rule on the boundary.  Its box is the whole
    vehicle's (length, width, height) box, projected."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        kind = sil.KINDS[rng.integers(len(sil.KINDS))]
        x, y = np.array([rng.uniform(-8, 8)]), np.array([rng.uniform(8, 80)])
        uv, box, ahead = sil._outlines(MODEL, x, y, kind)
        assert ahead.all() and uv.shape[1] == len(sil.parts(kind))
        whole, _ = MODEL.project(_corners(x[0], y[0], cm.SIZES_M[kind]))
        assert np.allclose(box[0], np.r_[whole.min(0), whole.max(0)])
        _, rows, left, right = sil._merged_spans(uv, box, (H, W))
        ours = np.zeros((H, W), dtype=bool)
        for r, a, b in zip(rows, left, right):
            ours[r, a:b] = True
        ref = Image.new("1", (W, H), 0)
        for part in uv[0]:
            ImageDraw.Draw(ref).polygon([(float(a), float(b)) for a, b in _hull(part - 0.5)], fill=1)
        ref = np.asarray(ref)
        boundary = ref.sum() - ndimage.binary_erosion(ref).sum()
        assert np.logical_xor(ours, ref).sum() <= max(2, boundary), (kind, x, y)


def _road(model=MODEL):
    """A grey road 4 lanes of 3.6 m wide, its white markings drawn through
    the camera model, on a green verge; the sky above the horizon."""
    w, h = int(2 * model.cx), int(2 * model.cy)
    img = Image.new("RGB", (w, h), (70, 110, 60))
    d = ImageDraw.Draw(img)
    edge = [(-7.2, 1.0), (7.2, 1.0), (7.2, 400.0), (-7.2, 400.0)]
    uv, _ = model.project([(a, b, 0.0) for a, b in edge])
    d.polygon([tuple(p) for p in uv], fill=ROAD_GREY)
    for x in (-7.2, -3.6, 0.0, 3.6, 7.2):
        uv, _ = model.project([(x - 0.08, 2.0, 0.0), (x + 0.08, 2.0, 0.0),
                               (x + 0.08, 400.0, 0.0), (x - 0.08, 400.0, 0.0)])
        d.polygon([tuple(p) for p in uv], fill=(214, 214, 210))
    horizon = model.cy - model.focal * math.tan(model.pitch)
    d.rectangle([0, 0, w, int(horizon)], fill=(150, 170, 200))
    return img


def _scene(vehicles, seed=0, model=MODEL):
    """(frame, empty road, expected boxes) with ``vehicles`` [(kind, x, y,
    paint)] painted far first, each of its parts (``silhouettes.parts``) its
    paint with a lighter top; the expected boxes are the whole vehicles'
    (length, width, height) boxes, projected."""
    road = _road(model)
    frame = road.copy()
    d = ImageDraw.Draw(frame)
    for kind, x, y, paint in sorted(vehicles, key=lambda v: -v[2]):
        for size in sil.parts(kind):  # a car's body, then its cabin on it
            uv, _ = model.project(_corners(x, y, size))
            d.polygon([(float(a), float(b)) for a, b in _hull(uv - 0.5)], fill=paint)
            top = [c for c in range(8) if c % 2 == 1]
            roof = tuple(min(255, int(c * 1.15)) for c in paint)
            d.polygon([(float(a), float(b)) for a, b in _hull(uv[top] - 0.5)], fill=roof)
    return _finished(frame, road, vehicles, seed, model)


def _finished(frame, road, vehicles, seed, model):
    """(the drawn frame with a little sensor noise, the empty road, the
    expected boxes: the whole vehicles' (length, width, height) boxes,
    projected) of [(kind, x, y, ...)] drawn on ``frame``."""
    boxes = []
    for kind, x, y, *_ in vehicles:
        uv, _ = model.project(_corners(x, y, cm.SIZES_M[kind]))
        boxes.append(np.r_[uv.min(0), uv.max(0)])
    rng = np.random.default_rng(seed)
    noisy = np.asarray(frame, dtype=np.float64)
    noisy = np.clip(noisy + rng.normal(0, 2, noisy.shape), 0, 255)
    return noisy.astype(np.uint8), np.asarray(road), np.array(boxes)


QUEUE_AND_BUS = [("car", 1.8, 24.0, (200, 30, 30)), ("car", 1.8, 30.0, (30, 60, 200)),
                 ("bus", -1.8, 34.0, (230, 190, 20)), ("car", -5.4, 20.0, (235, 235, 235))]


@pytest.mark.parametrize("size", [1, 3], ids=["320x180", "960x540"])
def test_a_queue_of_touching_cars_is_cut_into_cars_and_a_bus_stays_whole(size):
    """Two cars one behind the other in a lane, touching in the image (one
    foreground blob), a one-paint bus in the next lane and a lone car: four
    vehicles, each typed and boxed where it stands.  Also at the working
    size of a full-HD camera, 960x540, which the search works on at half size."""
    vehicles = QUEUE_AND_BUS
    model = dataclasses.replace(MODEL, focal=MODEL.focal * size, cx=MODEL.cx * size,
                                cy=MODEL.cy * size)
    frame, road, boxes = _scene(vehicles, model=model)
    view = perspective.perspective_camera(model, road)
    assert view.step == (1 if size == 1 else 2)
    found = perspective.find_vehicles(frame, view)
    assert len(found) == 4, found
    iou = iou_matrix(boxes, [(v.x0, v.y0, v.x1, v.y1) for v in found])
    for i, (kind, _, _, _) in enumerate(vehicles):
        j = int(iou[i].argmax())
        assert iou[i, j] >= 0.7, (kind, iou[i])
        assert found[j].type == kind
    assert sorted(v.colour for v in found) == ["blue", "red", "white", "yellow"]


def test_the_road_extent_comes_from_the_markings():
    road = np.asarray(_road())
    left, right = lanes.road_extent(lanes.marking_offsets(road, MODEL))
    assert abs(left + 7.2) < 1.0 and abs(right - 7.2) < 1.0


def test_the_lanes_lie_between_the_markings():
    offsets = lanes.marking_offsets(np.asarray(_road()), MODEL)
    lines = lanes.marking_lines(offsets)
    assert np.allclose(lines, [-7.2, -3.6, 0.0, 3.6, 7.2], atol=0.3), lines
    assert np.allclose(lanes.lane_centres(lines), [-5.4, -1.8, 1.8, 5.4], atol=0.3)


def test_a_missing_line_still_bounds_two_lanes_and_a_stray_one_none():
    """The line between two lanes worn away, and a line that pairs with no
    other (a trace of traffic, a median's edge): the lanes are where they
    are."""
    assert lanes.lane_centres([-7.2, -3.6, 3.6, 7.2]) == pytest.approx([-5.4, -1.8, 1.8, 5.4])
    assert lanes.lane_centres([-7.2, -3.6, -2.6, 0.0]) == pytest.approx([-5.4, -1.8])
    assert lanes.lane_centres([]) == [] and lanes.lane_centres([2.0]) == []


def test_outlines_stand_in_lanes_and_anywhere_without_lanes():
    shape = (H, W)
    everywhere = sil.silhouettes(MODEL, shape, (-7.2, 7.2))
    in_lanes = sil.silhouettes(MODEL, shape, (-7.2, 7.2), [-5.4, -1.8, 1.8, 5.4])
    assert len(in_lanes) < 0.6 * len(everywhere)
    x, _ = sil._anchors(MODEL, shape, (-7.2, 7.2), [-5.4, -1.8, 1.8, 5.4])
    assert len(x) and lanes.near_a_lane(x, [-5.4, -1.8, 1.8, 5.4]).all()
    assert (np.abs(x - 1.8) <= lanes.IN_LANE_M).any() and not (np.abs(x) < 1.0).any()
    assert len(sil.silhouettes(MODEL, shape, (-7.2, 7.2), [])) == len(everywhere)


def test_an_empty_road_has_no_vehicles():
    frame, road, _ = _scene([])
    view = perspective.perspective_camera(MODEL, road)
    assert perspective.find_vehicles(frame, view) == []


def test_lanes_are_kept_only_where_the_traffic_drives_in_them():
    """Traffic near the lanes' middles: kept.  The same traffic against
    lanes half a lane off (lines found along the lanes' middles), against
    lanes elsewhere on the road, or too little of it: not kept."""
    rng = np.random.default_rng(1)
    centres = [-5.4, -1.8, 1.8, 5.4]
    x = rng.choice(centres, 60) + rng.uniform(-0.5, 0.5, 60)
    assert lanes.traffic_in_lanes(centres, x)
    assert not lanes.traffic_in_lanes([c + 1.8 for c in centres], x)
    assert not lanes.traffic_in_lanes([-5.4, -1.8], x)
    assert not lanes.traffic_in_lanes(centres, x[:lanes.MIN_BLOBS - 1])
    assert not lanes.traffic_in_lanes([], x)


def test_where_the_markings_bound_no_lane_the_traffic_shows_where_the_lanes_are():
    """Two lanes with a median between them: the lines at the road's edges
    and one between the lanes, the second lane's inner line worn away.
    The markings pair into one lane only, which half the traffic does not
    drive in; the traffic's own peaks between the edge lines are both
    lanes, and shadows left as blobs on the verge beyond an edge line are
    not a lane."""
    rng = np.random.default_rng(7)
    lines = [-6.5, -2.9, 1.8]
    truth = [-4.7, -0.1]
    x = np.r_[rng.choice(truth, 80) + rng.normal(0, 0.3, 80), rng.uniform(-9.0, -7.0, 15)]
    assert lanes.lane_centres(lines) == pytest.approx([-4.7])
    assert not lanes.traffic_in_lanes(lanes.lane_centres(lines), x)
    assert np.allclose(lanes.traffic_lanes(x, lines), truth, atol=0.3)
    assert lanes.traffic_lanes(x, [1.8]) == [] and lanes.traffic_lanes(x[:5], lines) == []
    # a lane whose traffic makes no peak of its own: no lanes rather than
    # lanes that shut its traffic out
    sparse = np.r_[rng.normal(-4.7, 0.3, 80), rng.uniform(-2.9, 1.8, 30)]
    assert lanes.traffic_lanes(sparse, lines) == []


def test_an_outline_whose_sides_lie_on_a_vehicles_edges_has_their_support():
    """A car painted exactly where one outline is: that outline's sides lie
    on the painting's edges (support near 1); a car's outline half its
    width to the side, across the paint and the road, does not."""
    outlines = sil.silhouettes(MODEL, (H, W), (-7.2, 7.2))
    cars = np.nonzero(outlines.kind == 0)[0]
    boxes = outlines.box[cars]
    target = cars[int(np.argmin(np.abs(boxes[:, 0] - 170) + np.abs(boxes[:, 3] - 120)))]
    image = np.full((H, W, 3), 112, dtype=np.uint8)
    image[outlines.pixels(target)] = (200, 30, 30)
    x0, y0, x1, y1 = outlines.box[target]
    width = x1 - x0
    shifted = cars[int(np.argmin(np.abs(boxes[:, 0] - (x0 + width / 2)) + np.abs(boxes[:, 3] - y1)))]
    support = search.edge_support(outlines, np.array([target, shifted]), search.side_edges(image))
    assert support[0] >= 0.9 and support[1] <= 0.6, support


def test_the_side_band_is_the_projected_side_turned_to_the_camera():
    """A band of a vehicle's side between two heights, over the middle of
    its length: the pixels whose centres lie inside the projected face, on
    the side turned to the camera; none for a vehicle straight ahead of it."""
    outlines = sil.silhouettes(MODEL, (H, W), (-7.2, 7.2))
    trucks = np.nonzero(outlines.kind == sil.KINDS.index("truck"))[0]
    for x in (-5.4, 5.4):
        i = trucks[int(np.argmin(np.abs(outlines.across[trucks] - x)
                                 + np.abs(outlines.depth[trucks] - 30)))]
        rows, cols = outlines.side_band(i, 0.2, 0.8, 0.6)
        length, width, _ = cm.SIZES_M["truck"]
        face = outlines.across[i] + (-width / 2 if x > 0 else width / 2)
        y = outlines.depth[i]
        uv, _ = MODEL.project([(face, y - 0.3 * length, 0.2), (face, y + 0.3 * length, 0.2),
                               (face, y + 0.3 * length, 0.8), (face, y - 0.3 * length, 0.8)])
        ref = Image.new("1", (W, H), 0)
        ImageDraw.Draw(ref).polygon([(float(a), float(b)) for a, b in uv - 0.5], fill=1)
        ref = np.asarray(ref)
        ours = np.zeros((H, W), dtype=bool)
        ours[rows, cols] = True
        assert ours.sum() >= 20
        boundary = ref.sum() - ndimage.binary_erosion(ref).sum()
        assert np.logical_xor(ours, ref).sum() <= max(2, boundary), x
    ahead = trucks[int(np.argmin(np.abs(outlines.across[trucks]) + np.abs(outlines.depth[trucks] - 30)))]
    assert abs(outlines.across[ahead]) < 1.0 and len(outlines.side_band(ahead, 0.2, 0.8, 0.6)[0]) == 0


def _heavy_scene(vehicles, model=MODEL):
    """(frame, empty road, expected boxes) of [(kind, x, y, [(z0, z1,
    width, length share, paint[, metres along the road from the
    vehicle's middle])])]: each vehicle a stack of boxes, drawn far first,
    its boxes in the order given."""
    road = _road(model)
    frame = road.copy()
    d = ImageDraw.Draw(frame)
    for kind, x, y, layers in sorted(vehicles, key=lambda v: -v[2]):
        length = cm.SIZES_M[kind][0]
        for z0, z1, w, share, paint, *shift in layers:
            corners = _corners(x, y + sum(shift), (length * share, w, z1 - z0)) + [0.0, 0.0, z0]
            uv, _ = model.project(corners)
            d.polygon([(float(a), float(b)) for a, b in _hull(uv - 0.5)], fill=paint)
    return _finished(frame, road, vehicles, 0, model)


def test_a_bus_body_reaches_down_between_its_axles_and_a_trucks_load_does_not():
    """A bus and a truck of one and the same paint (a white box truck, its
    cab the load's colour) in the lanes either side of the camera, so their
    sides show: the bus's body comes down to 0.3 m, the truck's load rides
    on a dark chassis from 1 m up.  The paint cannot tell them apart; the
    band under the body does."""
    white, dark = (225, 225, 225), (28, 28, 30)
    bus = [(0.0, 0.3, 2.3, 0.85, dark), (0.3, 3.2, 2.55, 1.0, white)]
    truck = [(0.0, 1.0, 2.3, 0.9, dark), (1.0, 3.6, 2.5, 1.0, white)]
    vehicles = [("bus", -5.4, 30.0, bus), ("truck", 5.4, 32.0, truck)]
    frame, road, boxes = _heavy_scene(vehicles)
    found = perspective.find_vehicles(frame, perspective.perspective_camera(MODEL, road))
    assert len(found) == 2, found
    iou = iou_matrix(boxes, [(v.x0, v.y0, v.x1, v.y1) for v in found])
    for i, (kind, _, _, _) in enumerate(vehicles):
        j = int(iou[i].argmax())
        assert iou[i, j] >= 0.5, (kind, iou[i])
        assert found[j].type == kind and found[j].colour == "white", found[j]


@pytest.mark.parametrize("kind", ["bus", "truck"])
def test_where_no_side_shows_the_end_turned_to_the_camera_tells_a_bus_from_a_truck(kind):
    """A bus or a white box truck straight ahead of the camera, going away
    from it, so neither side shows: the band across its rear, between its
    wheels, is a bus's body, but under a truck's load its chassis and the
    road.  (The outline's length alone had made a 10 m truck a bus.)"""
    white, dark = (225, 225, 225), (28, 28, 30)
    layers = {"bus": [(0.0, 0.3, 2.3, 0.85, dark), (0.3, 3.2, 2.55, 1.0, white)],
              "truck": [(0.0, 1.0, 2.3, 0.9, dark), (1.0, 3.6, 2.5, 1.0, white)]}[kind]
    frame, road, boxes = _heavy_scene([(kind, 0.0, 30.0, layers)])
    view = perspective.perspective_camera(MODEL, road)
    outlines = view.silhouettes
    i = _nearest(outlines, kind, 0.0, 30.0)
    assert len(outlines.side_band(i, *perspective.UNDERBODY_M, perspective.BETWEEN_AXLES)[0]) == 0
    assert len(outlines.end_band(i, *perspective.UNDERBODY_M, perspective.BETWEEN_WHEELS)[0]) >= 3
    found = perspective.find_vehicles(frame, view)
    assert len(found) == 1, found
    assert iou_matrix(boxes, [(found[0].x0, found[0].y0, found[0].x1, found[0].y1)])[0, 0] >= 0.5
    assert found[0].type == kind, found[0]


def _box_truck(front, cab, load, dark=(28, 28, 30)):
    """``_heavy_scene``'s layers of a 10 m box truck: its chassis, its load
    (1-3.6 m up, 7.25 m long) and its cab (0.45-3 m up, 2.3 m long) at its
    front end, ``front`` (+1: the end farther from the camera, going away;
    -1: the nearer, coming)."""
    return [(0.0, 1.0, 2.3, 0.9, dark)] + [
        (1.0, 3.6, 2.5, 0.725, load, -1.375 * front),
        (0.45, 3.0, 2.5, 0.23, cab, 3.85 * front)][::-front]  # the nearer last


def test_a_truck_coming_is_named_by_its_cab_and_one_going_away_by_its_load():
    """A truck's colour is its cab's.  Coming towards the camera, the
    nearest 2.5 m of what is seen of it, up to a cab's height, are its cab,
    in another paint than the rest (named on the whole, a red load outvotes
    a white cab); going away, its load hides its cab and the nearest part is
    the load's rear, in the load's paint: the load is all there is to
    name."""
    white, red = (225, 225, 225), (190, 35, 30)
    vehicles = [("truck", 5.4, 32.0, _box_truck(-1, white, red)),
                ("truck", -5.4, 36.0, _box_truck(+1, white, red))]
    frame, road, boxes = _heavy_scene(vehicles)
    found = perspective.find_vehicles(frame, perspective.perspective_camera(MODEL, road))
    assert len(found) == 2, found
    iou = iou_matrix(boxes, [(v.x0, v.y0, v.x1, v.y1) for v in found])
    assert (iou.max(axis=1) >= 0.5).all(), iou
    coming, going = (found[int(j)] for j in iou.argmax(axis=1))
    assert coming.type == going.type == "truck", found
    assert (coming.colour, going.colour) == ("white", "red"), found


def test_a_vehicles_body_between_two_road_positions_is_that_part_of_its_outline():
    """``body_pixels`` projects the part of a vehicle between two places
    along the road: over its whole length, the outline itself; its nearer
    half lies lower in the frame than its farther half."""
    outlines = perspective.perspective_camera(MODEL, np.asarray(_road())).silhouettes
    i = _nearest(outlines, "truck", 5.4, 30.0)
    y, half = outlines.depth[i], cm.SIZES_M["truck"][0] / 2
    whole = outlines.body_pixels(i, y - half, y + half)
    assert sorted(zip(*whole)) == sorted(zip(*outlines.pixels(i)))
    near, far = outlines.body_pixels(i, y - half, y), outlines.body_pixels(i, y, y + half)
    assert near[0].max() > far[0].max() and near[0].min() > far[0].min()


def _nearest(outlines, kind, x, y):
    """The outline of ``kind`` whose road point is nearest (x, y)."""
    far = (outlines.across - x) ** 2 + (outlines.depth - y) ** 2
    return int(np.argmin(np.where(outlines.kind == sil.KINDS.index(kind), far, np.inf)))


def test_a_long_outline_pays_for_the_shadow_it_would_swallow():
    """A truck's pixels, and past its far end its shadow (pixels that may
    be either vehicle or road) up to a sliver of the next vehicle.  Free
    under every outline, the shadow let a long truck's outline take the
    truck, the shadow and the sliver; under a bus's or truck's outline it
    costs a share of road (``search.UNSURE_UNDER_LONG``), and the truck is
    the truck."""
    road = np.asarray(_road())
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    truck = _nearest(outlines, "truck", 5.4, 34.0)
    longer = _nearest(outlines, "long truck", 5.4, 34.0 - 5.0 + 8.25)  # the same near end
    mask = np.zeros(road.shape[:2], dtype=bool)
    mask[outlines.pixels(truck)] = True
    shadow = np.zeros_like(mask)
    shadow[outlines.pixels(longer)] = True
    shadow &= ~mask
    rows = np.nonzero(shadow.any(axis=1))[0]
    sliver = shadow & (np.arange(mask.shape[0]) < rows.min() + 2)[:, None]  # its far end
    chosen = search.Search(outlines, mask | sliver, shadow & ~sliver).run()
    assert [sil.KINDS[outlines.kind[i]] for i in chosen] == ["truck"]
    assert abs(outlines.depth[chosen[0]] - 34.0) < 1.0


def test_a_bus_first_taken_for_a_truck_settles_on_a_buss_outline():
    """The search picks a vehicle's kind before its place is settled: a
    bus whose pixels a truck's outline nearly covers may be taken for a
    truck first.  Settling looks among the outlines of every long kind
    near it, and the bus's own outline explains its pixels best."""
    road = np.asarray(_road())
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    bus = _nearest(outlines, "bus", 5.4, 34.0)
    truck = _nearest(outlines, "truck", 5.4, 34.0)
    near = outlines.neighbours(truck, search.SETTLE_OVERLAP, sil.LONG_KINDS)
    assert {sil.KINDS[k] for k in outlines.kind[near]} == {"bus", "truck", "long truck"}
    assert list(near) == sorted(near) and truck in near
    assert set(outlines.neighbours(truck, search.SETTLE_OVERLAP)) <= set(near)
    mask = np.zeros(road.shape[:2], dtype=bool)
    mask[outlines.pixels(bus)] = True
    (settled,) = search.settle(outlines, [truck], mask, np.zeros_like(mask))
    assert sil.KINDS[outlines.kind[settled]] == "bus"
    assert iou_matrix(outlines.box[settled], outlines.box[bus])[0, 0] >= 0.8


def test_a_car_settles_where_its_glass_is():
    """Two white cars one behind the other in a lane, touching in the image,
    their windows dark glass.  A car chosen between them, half a car off,
    explains as much of the queue wherever it settles along it; where its
    cabin's glass falls on the dark windows is where a car stands."""
    white, glass = (225, 225, 225), (30, 34, 40)
    car = [(0.0, 0.9, 1.8, 1.0, white), (0.9, 1.5, 1.8, 0.55, glass), (1.48, 1.5, 1.8, 0.55, white)]
    frame, road, _ = _heavy_scene([("car", 1.8, 24.0, car), ("car", 1.8, 29.0, car)])
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    mask, unsure, light, _ = evidence.frame_evidence(frame, road)
    between = _nearest(outlines, "car", 1.8, 26.5)
    blind = search.settle(outlines, [between], mask, unsure)
    seeing = search.settle(outlines, [between], mask, unsure, evidence.dark_pixels(mask, light, road))
    assert abs(outlines.depth[seeing[0]] - 24.0) < 0.3
    assert abs(outlines.depth[blind[0]] - 24.0) > 0.5  # what the outline alone settles on


def test_a_car_settles_where_its_sides_lie_on_edges():
    """A red car and a blue car side by side straight ahead of the camera,
    touching in the image.  A car chosen across them explains about as
    many vehicle pixels wherever it settles over the pair; its sides lie on
    paint there, a car's on the edges where its paint meets the road or the
    other car's."""
    red, blue = (200, 30, 30), (30, 40, 200)
    frame, road, _ = _heavy_scene([("car", -0.9, 20.0, [(0.0, 1.5, 1.8, 1.0, red)]),
                                   ("car", 0.9, 20.0, [(0.0, 1.5, 1.8, 1.0, blue)])])
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    mask, unsure, *_ = evidence.frame_evidence(frame, road)
    across = _nearest(outlines, "car", 0.0, 20.0)
    seeing = search.settle(outlines, [across], mask, unsure, edges=search.side_edges(frame))[0]
    blind = search.settle(outlines, [across], mask, unsure)[0]
    assert abs(abs(outlines.across[seeing]) - 0.9) < 0.2 and abs(outlines.depth[seeing] - 20.0) < 0.5
    assert abs(abs(outlines.across[blind]) - 0.9) > 0.3  # what the outline alone settles on


def _car_at(outlines, i, across, depth):
    """Is outline i a car's, standing at (``across``, ``depth``) metres to
    within 0.3 m across and 0.5 m along?"""
    return (sil.KINDS[outlines.kind[i]] == "car" and abs(outlines.across[i] - across) < 0.3
            and abs(outlines.depth[i] - depth) < 0.5)


def test_a_grey_car_that_reads_as_shadow_is_found_by_its_windows_and_a_shadow_is_not():
    """A grey car in shade, darkening the road by one common factor as a
    cast shadow does, its dark windows the only pixels clearly a vehicle;
    and a car-sized cast shadow in the next lane, no windows.  Given the
    dark pixels, the car's shadow-like pixels count toward its fill and the
    car is found where it stands; without them the windows alone are taken
    for pieces of something else.  The shadow is taken for nothing."""
    shade = tuple(int(c * 0.6) for c in ROAD_GREY)
    glass = (30, 34, 40)
    car = [(0.0, 1.5, 1.8, 0.55, shade), (0.0, 0.9, 1.8, 1.0, shade), (0.9, 1.5, 1.8, 0.35, glass)]
    cast = [(0.0, 0.01, 1.8, 1.0, shade)]
    frame, road, _ = _heavy_scene([("car", 1.8, 22.0, car), ("car", -1.8, 22.0, cast)])
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    mask, unsure, light, _ = evidence.frame_evidence(frame, road)
    dark = evidence.dark_pixels(mask, light, road)
    seeing = search.Search(outlines, mask, unsure, frame, dark).run()
    blind = search.Search(outlines, mask, unsure, frame).run()

    assert len(seeing) == 1 and _car_at(outlines, seeing[0], 1.8, 22.0), seeing
    assert not any(_car_at(outlines, i, 1.8, 22.0) for i in blind)
    assert not any(abs(outlines.across[i] + 1.8) < 1.0 for i in seeing + blind)


def test_a_car_whose_paint_is_a_few_levels_off_the_road_is_found_by_its_windows_and_faint_paint():
    """A greyish-beige car on the grey road, its paint a few levels off the
    road's (less than evidence.FAINT_DIFFERENCE), its dark windows the only
    pixels clearly a vehicle.  Taken as road, its body costs the car its
    place; as faint paint (``evidence.faint_paint``) under a car whose
    windows are seen, the car is found where it stands."""
    paint = tuple(c + d for c, d in zip(ROAD_GREY, (8, 4, -6)))
    glass = (30, 34, 40)
    car = [(0.0, 1.5, 1.8, 0.55, paint), (0.0, 0.9, 1.8, 1.0, paint), (0.9, 1.5, 1.8, 0.35, glass)]
    frame, road, _ = _heavy_scene([("car", 1.8, 22.0, car)])
    outlines = perspective.perspective_camera(MODEL, road).silhouettes
    mask, unsure, light, faint = evidence.frame_evidence(frame, road)
    dark = evidence.dark_pixels(mask, light, road)
    seeing = search.Search(outlines, mask, unsure, frame, dark, faint).run()
    blind = search.Search(outlines, mask, unsure, frame, dark).run()

    assert len(seeing) == 1 and _car_at(outlines, seeing[0], 1.8, 22.0), seeing
    assert not any(_car_at(outlines, i, 1.8, 22.0) for i in blind)


_ROAD_OUTLINES = []


def _road_outlines():
    """The outlines of ``_road()``'s camera, built once for the tests that
    draw many scenes on it."""
    if not _ROAD_OUTLINES:
        _ROAD_OUTLINES.append(perspective.perspective_camera(MODEL, np.asarray(_road())).silhouettes)
    return _ROAD_OUTLINES[0]


def _stand_on_the_same_road(outlines, i, j):
    """Do outlines i and j's vehicles' footprints (their kind's length and
    width at their road points) overlap by more than the search lets two
    vehicles' footprints overlap?"""
    (li, wi, _), (lj, wj, _) = (cm.SIZES_M[sil.KINDS[outlines.kind[k]]] for k in (i, j))
    across = (wi + wj) / 2 - abs(outlines.across[i] - outlines.across[j])
    along = (li + lj) / 2 - abs(outlines.depth[i] - outlines.depth[j])
    return across > search.ROAD_SIDE and along > search.ROAD_SHARE * min(li, lj)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sil.KINDS[:4]), st.sampled_from((-5.4, -1.8, 1.8, 5.4)),
                          st.floats(-1.0, 1.0), st.floats(12.0, 60.0)), min_size=2, max_size=6),
       st.floats(0.0, 3.0))
def test_no_two_vehicles_the_search_chooses_stand_on_the_same_road(vehicles, shadow):
    """Vehicles of any kind anywhere in the lanes, their pixels a mask,
    each with a cast shadow ``shadow`` metres long behind it (pixels that
    may be either): however the vehicles overlap in the image, or on the
    road (the drawn ones may: the search must still choose possible ones),
    no two the search chooses stand on the same road
    (``search.ROAD_SIDE``, ``search.ROAD_SHARE``), nor any two once they
    have settled, each moved on its own (``search.one_per_road``)."""
    outlines = _road_outlines()
    mask = np.zeros((H, W), dtype=bool)
    unsure = np.zeros_like(mask)
    for kind, lane, off, depth in vehicles:
        mask[outlines.pixels(_nearest(outlines, kind, lane + off, depth))] = True
        if shadow > 0.5:
            unsure[outlines.pixels(_nearest(outlines, "car", lane + off, depth + shadow))] = True
    chosen = search.Search(outlines, mask, unsure & ~mask).run()
    assert chosen
    drawn = np.where(mask[..., None], (200, 60, 60), (90, 90, 90)).astype(np.uint8)
    settled = search.settle(outlines, chosen, mask, unsure & ~mask, edges=search.side_edges(drawn))
    assert settled
    for picked in (chosen, settled):
        for a in range(len(picked)):
            for b in range(a + 1, len(picked)):
                assert not _stand_on_the_same_road(outlines, picked[a], picked[b]), (picked[a], picked[b])


def test_two_vehicles_settled_onto_one_car_count_it_once():
    """Settling moves each chosen vehicle on its own: two cars may both
    settle onto one car (its glass and its edges draw them both).  Only
    the first chosen stays."""
    outlines = _road_outlines()
    car = _nearest(outlines, "car", 1.8, 25.0)
    beside = _nearest(outlines, "car", 1.8, 25.5)
    apart = _nearest(outlines, "car", 5.4, 25.0)
    assert search.one_per_road(outlines, [car, beside, apart]) == [car, apart]
    assert search.one_per_road(outlines, [beside, car]) == [beside]
