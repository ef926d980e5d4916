"""The test equipment: the scene generator's geometries."""

import math

import numpy as np
import pyarrow.parquet as pq
import pytest

import scenes
from scenes import elevated, pinhole
from scenes.common import HEIGHT, WIDTH


def test_the_pinhole_camera_projects_ground_points_back_to_their_pixels():
    cam = pinhole.camera(WIDTH, HEIGHT, 60, (3.0, 0.0, 10.0), math.radians(12), math.radians(20),
                         math.radians(1))
    x, y, distance, ground = cam.ground()
    rows, cols = np.nonzero(ground)
    pick = np.random.default_rng(0).choice(len(rows), 200)
    points = np.stack([x[rows[pick], cols[pick]], y[rows[pick], cols[pick]],
                       np.zeros(len(pick))], axis=1)
    uv, depth = cam.project(points)
    assert np.allclose(uv, np.stack([cols[pick] + 0.5, rows[pick] + 0.5], axis=1), atol=1e-6)
    assert (depth > 0).all()
    assert cam.horizon_v() < rows.min()  # the ground lies below the horizon


@pytest.fixture(scope="module")
def camera():
    return scenes.make_camera(11, 1, "elevated")


def test_elevated_frames_are_deterministic_and_their_truth_is_inside_the_frame(camera):
    a = scenes.render(11, 1, 7, 40, camera)
    b = scenes.render(11, 1, 7, 40, camera)
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    pixels, _, truth, quality = a
    assert pixels.shape == (HEIGHT, WIDTH, 3) and 55 <= quality <= 92
    assert truth and all(0 <= v.x0 < v.x1 <= WIDTH and 0 <= v.y0 < v.y1 <= HEIGHT for v in truth)
    assert {v.type for v in truth} <= {"car", "truck", "bus", "motorcycle"}
    big = [v for v in truth if not v.small]
    assert big and all(min(v.x1 - v.x0, v.y1 - v.y0) >= elevated.SMALL_PX for v in big)


def test_an_elevated_camera_drawn_twice_the_size_sees_the_same_scene(camera):
    """``scale`` draws the same scene with more pixels (a sharper camera):
    the same vehicles, in boxes twice the size to a pixel or two, and more
    of them large enough to type; a top-down camera has one size."""
    pixels, _, truth, _ = scenes.render(11, 1, 7, 40, camera)
    sharp = scenes.make_camera(11, 1, "elevated", scale=2)
    big_pixels, _, big_truth, _ = scenes.render(11, 1, 7, 40, sharp)
    assert big_pixels.shape == (2 * HEIGHT, 2 * WIDTH, 3)
    # a vehicle at the frame's edge may be inside one frame's margin only
    assert abs(len(big_truth) - len(truth)) <= 2
    pairs = [(v, w) for v in truth for w in big_truth if (v.type, v.colour) == (w.type, w.colour)
             and max(abs(2 * a - b) for a, b in zip((v.x0, v.y0, v.x1, v.y1),
                                                     (w.x0, w.y0, w.x1, w.y1))) <= 2]
    assert len(pairs) >= len(truth) - 2
    assert sum(not w.small for w in big_truth) > sum(not v.small for v in truth)
    # the same picture at half the size, to within the sensor noise
    half = big_pixels.astype(float).reshape(HEIGHT, 2, WIDTH, 2, 3).mean(axis=(1, 3))
    assert np.median(np.abs(half - pixels)) < 6
    with pytest.raises(ValueError, match="top-down"):
        scenes.make_camera(11, 0, "mixed", scale=2)


def test_nearer_vehicles_hide_farther_ones_and_the_truth_says_so():
    frames = [scenes.render(5, 1, f, 40, scenes.make_camera(5, 1, "elevated"))[2]
              for f in range(0, 40, 8)]
    flags = [v.occluded for truth in frames for v in truth]
    assert any(flags) and not all(flags)


def test_a_jammed_direction_stands_still_while_the_other_moves(camera):
    direction, a, b = camera.jam
    first, last = math.ceil(a * 40), math.ceil(b * 40) - 1
    assert last > first
    one, two = (elevated._traffic(11, camera, f, 40, scenes.topdown.frame_time(camera, f, 40))
                for f in (first, last))
    still = lambda vs: [(v.x, v.y, v.body.type) for v in vs if v.direction == direction]  # noqa: E731
    moving = lambda vs: [(v.x, v.y) for v in vs if v.direction != direction]  # noqa: E731
    assert still(one) == still(two) and still(one)
    if moving(one):
        assert moving(one) != moving(two)


def test_a_frozen_camera_repeats_one_frame_while_its_clock_runs(camera):
    frozen = [scenes.render(11, 1, f, 10, camera, frozen_after=5) for f in (5, 6, 9)]
    assert all(np.array_equal(frozen[0][0], f[0]) and f[2] == frozen[0][2] for f in frozen)
    assert frozen[0][1] < frozen[1][1] < frozen[2][1]
    assert np.array_equal(scenes.render(11, 1, 4, 10, camera, frozen_after=5)[0],
                          scenes.render(11, 1, 4, 10, camera)[0])


def test_mixed_geometry_gives_both_kinds_of_camera():
    assert [scenes.camera_geometry("mixed", i) for i in range(6)] == [
        "top-down", "elevated", "elevated", "top-down", "elevated", "elevated"]
    with pytest.raises(ValueError, match="unknown geometry"):
        scenes.camera_geometry("fisheye", 0)


def test_generated_truth_has_the_occlusion_and_size_flags(tmp_path):
    from pipelines.generate_sample import generate
    images, vehicles = generate(str(tmp_path), cameras=2, frames_per_camera=2, seed=3,
                                workers=1, geometry="mixed", frozen_cameras=1)
    truth = pq.read_table(tmp_path / "ground_truth.parquet").to_pandas()
    assert images == 4 and len(truth) == vehicles > 0
    assert {"occluded", "small"} <= set(truth.columns)
    topdown = truth[truth.camera == "cam-01"]
    assert not topdown.occluded.any() and not topdown.small.any()
