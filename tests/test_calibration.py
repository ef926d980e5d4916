"""What a camera's own empty road teaches about its geometry
(traffic/markings.py, traffic/calibration.py), checked against generated cameras of known
geometry.  The seed is used by no tuning run."""

import dataclasses

import numpy as np
import pytest

import scenes
from benchmarks.calibration_error import compare, errors, good, lane_offset
from traffic import background as bg
from traffic.markings import DASHED_PEAK, calibrate, comb_spacing
from traffic.imaging import decode_image, encode_jpeg, reduction_to
from scenes.common import WIDTH

SEED, FRAMES = 5150, 40
REDUCE = reduction_to(WIDTH, bg.WORK_WIDTH)  # the working size's: 2


def jpegs(camera, index):
    """Every other frame of a camera, as the JPEG files a camera uploads."""
    out = []
    for f in range(0, FRAMES, 2):
        pixels, t, _, quality = scenes.render(SEED, index, f, FRAMES, camera)
        out.append((f, encode_jpeg(pixels, t, quality)))
    return out


def write_frames(folder, cameras):
    """ImageRefs of [(camera, its JPEG frames)] written as a camera's files."""
    from traffic.records import ImageRef
    refs = []
    for camera, frames in cameras:
        for f, data in frames:
            path = folder / camera.name / f"frame-{f:04d}.jpg"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            refs.append(ImageRef(str(path), camera.name, None))
    return refs


def empty_road(camera, index):
    return bg.background_from_samples(
        [(f, decode_image(data, width=bg.WORK_WIDTH).pixels) for f, data in jpegs(camera, index)])


@pytest.fixture(scope="module")
def elevated():
    out = []
    for index in range(3):
        camera = scenes.make_camera(SEED, index, "elevated")
        out.append((camera, calibrate(empty_road(camera, index))))
    return out


def test_the_road_direction_is_learned_within_10_degrees_everywhere(elevated):
    for camera, geometry in elevated:
        assert geometry is not None and geometry.vanishing_point is not None
        _, direction_errors = errors(camera, geometry, REDUCE)
        assert direction_errors and max(direction_errors) < 10, (camera.name, direction_errors)


def test_the_markings_alone_give_the_scale_within_10_percent_on_most_cameras(elevated):
    """The lane spacing read off the markings alone is right on two cameras
    in three (where the empty road keeps traces of traffic, or the markings
    repeat every other lane, it can be a whole multiple off: the traffic
    settles that in the ``LearnGeometry`` stage, whose test below asks for
    every camera)."""
    good = 0
    for camera, geometry in elevated:
        scale_errors, _ = errors(camera, geometry, REDUCE)
        assert scale_errors
        good += max(abs(e) for e in scale_errors) < 0.10
    assert good >= 2


def _lanes_right(camera, record):
    """Does a record hold every lane of the camera, and only its lanes,
    drawn where they are?  On the lower half of the frame, each learned
    middle (through the learned model) lies within a fifth of a lane width
    of a true lane's middle (through the true camera)."""
    offset = lane_offset(camera, record)
    return offset is not None and offset <= 0.2


def test_the_learn_geometry_stage_alone_on_cameras_of_known_geometry(tmp_path):
    """The calibration stage as the job runs it (EstimateBackgrounds, the
    per-camera barrier, then LearnGeometry) on JPEG files: its records, in
    full-size pixels, hold the learned direction within 10 degrees of the
    truth everywhere and the scale within 10 % on every camera, find every
    lane of every camera and draw its middle within a fifth of a lane width
    of the truth (an ad-hoc run: at most 0.06), and carry the empty road
    they were learned from."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that

    from tests.conftest import fn_api_pipeline
    from traffic.calibration import road_geometry
    from transforms.tag import EstimateBackgrounds, LearnGeometry

    cameras = {c.name: c for c in (scenes.make_camera(SEED, i, "elevated") for i in range(3))}
    refs = write_frames(tmp_path, [(c, jpegs(c, c.index)) for c in cameras.values()])

    def check(records):
        assert sorted(r.camera for r in records) == sorted(cameras)
        lanes_right = 0
        for r in records:
            assert r.sample_frames == FRAMES // 2
            assert decode_image(r.empty_road_jpeg).width == r.width // REDUCE
            geometry = road_geometry(r)
            assert geometry is not None and geometry.vanishing_point is not None, r.camera
            scale_errors, direction_errors = errors(cameras[r.camera], geometry)
            assert direction_errors and max(direction_errors) < 10, (r.camera, direction_errors)
            assert max(abs(e) for e in scale_errors) < 0.10, (r.camera, scale_errors)
            lanes_right += _lanes_right(cameras[r.camera], r)
        assert lanes_right == len(cameras)

    with fn_api_pipeline() as p:
        records = (p | beam.Create(refs) | EstimateBackgrounds(samples=bg.DEFAULT_SAMPLES)
                   | LearnGeometry())
        assert_that(records, check)


def test_a_camera_straight_above_the_road_has_parallel_lines_and_one_scale():
    camera = scenes.make_camera(SEED, 0, "top-down")
    geometry = calibrate(empty_road(camera, 0))
    assert geometry.vanishing_point is None
    assert min(geometry.direction_deg, 180 - geometry.direction_deg) < 2  # left to right
    # the markings alone: up to a whole ratio (the cars settle it, below)
    ratios = geometry.scale * REDUCE / camera.pixels_per_metre / np.array([1, 0.5, 2, 1 / 3, 3])
    assert np.abs(ratios - 1).min() < 0.12, (geometry.scale, camera.pixels_per_metre)


# Cameras straight above the road at scales the generator's default (10 px/m)
# is not: the scale is learned from each camera's own markings and cars.
TOPDOWN_SCALES = (7.0, 10.0, 14.0)


def _topdown_camera(index, pixels_per_metre):
    from scenes.topdown import make_camera
    return make_camera(SEED, index, pixels_per_metre=pixels_per_metre)


@pytest.fixture(scope="module")
def topdown_cameras():
    """(camera, its JPEG frames [(frame, bytes)], their truth rows) at each
    of TOPDOWN_SCALES."""
    out = []
    for index, scale in enumerate(TOPDOWN_SCALES):
        camera, frames, truth = _topdown_camera(index, scale), [], []
        for f in range(0, FRAMES, 2):
            pixels, t, vehicles, quality = scenes.render(SEED, index, f, FRAMES, camera)
            frames.append((f, encode_jpeg(pixels, t, quality)))
            truth += [dict(image=f, **dataclasses.asdict(v)) for v in vehicles]
        out.append((camera, frames, truth))
    return out


def _learned(camera, frames, hint=None):
    from traffic.calibration import camera_geometry
    from traffic.perspective.evidence import empty_road_and_blobs
    road, sampled, blobs = empty_road_and_blobs(
        [(f, decode_image(data, width=bg.WORK_WIDTH).pixels) for f, data in frames])
    return road, camera_geometry(camera.name, road, sampled, REDUCE, blobs, hint)


def test_a_camera_straight_above_the_road_learns_its_scale_and_takes_a_hint_only_where_it_agrees(
        topdown_cameras):
    """Without a hint each camera's scale comes out within 5 % of the truth
    (the markings alone are off by a whole ratio on some cameras, and by up
    to 10 %); a hint within 10 % of the learned scale is taken as exact, a
    wrong one is not."""
    for camera, frames, _ in topdown_cameras:
        truth = camera.pixels_per_metre
        _, record = _learned(camera, frames)
        assert record.vanishing_u is None
        assert abs(record.scale_centre / truth - 1) < 0.05, (truth, record.scale_centre)
        _, hinted = _learned(camera, frames, hint=10.0)
        if truth == 10.0:
            assert hinted.scale_centre == 10.0
        else:
            assert abs(hinted.scale_centre / truth - 1) < 0.05, (truth, hinted.scale_centre)


def test_the_constant_scale_tagger_types_vehicles_at_the_learned_scale(topdown_cameras):
    """Tagged at the scale each camera learned (no hint), cameras at 7 and
    14 px/m get their vehicles' types as the default-scale camera does."""
    import pandas as pd

    from traffic.calibration import tagging_scale
    from traffic.evaluation import evaluate
    for camera, frames, truth in topdown_cameras:
        road, record = _learned(camera, frames)
        scale = tagging_scale(record, None)
        found = []
        for f, data in frames:
            d = decode_image(data, width=bg.WORK_WIDTH)
            found += [dict(image=f, **v._asdict())
                      for v in bg.find_vehicles(d.pixels, road, d.scale, scale)]
        result = evaluate(pd.DataFrame(truth), pd.DataFrame(found))
        for kind, r in result["types"].items():
            if r["true"] >= 10:
                assert r["recall"] >= 0.9 and r["precision"] >= 0.9, (camera.pixels_per_metre, kind, r)


def test_the_learn_geometry_stage_learns_a_top_down_scale_and_weighs_the_hint(
        topdown_cameras, tmp_path):
    """The stage as the job runs it, given ``--pixels-per-metre 10``: the
    10 px/m camera's record takes the hint exactly, the 7 and 14 px/m
    cameras' records keep what their frames taught (within 5 %)."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that

    from tests.conftest import fn_api_pipeline
    from transforms.tag import EstimateBackgrounds, LearnGeometry

    truth = {camera.name: camera.pixels_per_metre for camera, _, _ in topdown_cameras}
    refs = write_frames(tmp_path, [(camera, frames) for camera, frames, _ in topdown_cameras])

    def check(records):
        assert sorted(r.camera for r in records) == sorted(truth)
        for r in records:
            assert r.vanishing_u is None and r.focal_px is None
            if truth[r.camera] == 10.0:
                assert r.scale_centre == 10.0
            else:
                assert abs(r.scale_centre / truth[r.camera] - 1) < 0.05, (r.camera, r.scale_centre)

    with fn_api_pipeline() as p:
        records = (p | beam.Create(refs) | EstimateBackgrounds(samples=bg.DEFAULT_SAMPLES)
                   | LearnGeometry(pixels_per_metre=10.0))
        assert_that(records, check)


def test_a_wide_marking_is_one_line_and_the_vanishing_point_is_where_the_markings_meet():
    """Two wide edge lines of a road meeting at (160, -40), above the frame.
    Each marking pixel votes for one line only, so a wide line gives lines
    of its own direction (its middle, and what is left at its sides), not a
    fan of near-copies whose crossings (on the line itself) would outvote
    the point where the two markings meet."""
    from traffic.markings import hough_lines, vanishing_point

    rows, cols = [], []
    for foot in (40.0, 280.0):
        for v in range(0, 180):
            u = 160.0 + (foot - 160.0) * (v + 40.0) / 220.0
            width = 1 + v // 90  # 3-5 px, wider nearer the camera
            for du in range(-width, width + 1):
                rows.append(v)
                cols.append(int(round(u)) + du)
    rows, cols = np.array(rows), np.array(cols)
    lines = hough_lines(rows, cols, (180, 320))
    assert len({theta for theta, _, _ in lines}) == 2, lines
    p, _ = vanishing_point(lines)
    u, v = p[:2] / p[2]
    assert abs(u - 160.0) < 4 and abs(v + 40.0) < 6, (u, v)


def test_the_calibration_benchmark_reports_a_camera_that_learned_nothing_as_a_row_without_scale():
    from traffic.records import CameraGeometry
    for geometry in ("top-down", "elevated"):
        camera = scenes.make_camera(SEED, 0, geometry)
        nothing = CameraGeometry(camera.name, None, None, None, None, None, 0, 20, 640, 360)
        row = compare(camera, nothing)
        assert row["camera"] == camera.name and row["geometry"] == geometry
        assert row["scale_error"] is None and row["direction_error_deg"] is None
        assert not good(row)


def test_dashed_lines_between_two_solid_ones_set_the_lane_spacing_even_where_one_stands_out():
    """Five lanes between two solid edge lines, the four dashed lines
    between them about a quarter as strong, one of them a little stronger
    than the rest (a fresher coat of paint, more of its dashes in view):
    the spacing is a lane's, not the road's width, whichever dashed line
    stands out.  (Positions are slopes of lines through the vanishing
    point, as ``calibrate`` reads them.)"""
    rng = np.random.default_rng(3)
    lines = np.linspace(-1.09, 0.455, 6)  # a lane: 0.309
    for strong in range(1, 5):
        share = [1.0, 0.2, 0.2, 0.2, 0.2, 1.0]
        share[strong] = 0.27
        values = np.concatenate([rng.normal(x, 0.004, int(4000 * s)) for x, s in zip(lines, share)])
        spacing = comb_spacing(values, resolution=0.004, fewer_peaks=DASHED_PEAK)
        assert spacing is not None and abs(spacing - 0.309) < 0.02, (strong, spacing)


def test_a_road_line_runs_from_near_the_camera_to_the_horizon_and_only_ahead_of_it():
    from traffic.camera_model import CameraModel, road_line
    model = CameraModel(focal=400.0, pitch=0.2, yaw=0.0, height=10.0, cx=320.0, cy=180.0)
    middle = road_line(model.project, 0.0, np.array([-20.0, 0.0, 5.0, 50.0, 5000.0]))
    assert len(middle) == 4  # behind the camera: not drawn
    np.testing.assert_allclose(middle[:, 0], 320.0)  # the road's middle, straight ahead
    assert np.all(np.diff(middle[:, 1]) < 0)  # farther is higher in the frame
    horizon = 180.0 - 400.0 * np.tan(0.2)
    assert abs(middle[-1, 1] - horizon) < 1.0
    right = road_line(model.project, 3.5, np.array([5.0, 50.0, 5000.0]))
    assert np.all(right[:, 0] > 320.0) and np.all(np.diff(right[:, 0]) < 0)  # to the middle far off
