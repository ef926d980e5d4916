"""The background tagger's empty road and segmentation, without Beam: light
that changes from frame to frame, and a frozen camera."""

import numpy as np
import pytest

import scenes
from traffic import background as bg
from traffic.evaluation import match
from traffic.imaging import decode_image, encode_jpeg

SEED, CAMERA, FRAMES = 4711, 2, 24  # a seed no other test or tuning run uses


@pytest.fixture(scope="module")
def frames():
    camera = scenes.make_camera(SEED, CAMERA, "top-down")
    out = []
    for f in range(FRAMES):
        pixels, t, _, _ = scenes.render(SEED, CAMERA, f, FRAMES, camera)
        out.append(pixels)
    return out


def working(pixels):
    return decode_image(encode_jpeg(pixels), reduce=bg.WORK_REDUCE)


def boxes(found):
    return sorted((d.type, d.x0, d.y0, d.x1, d.y1) for d in found)


def tag_all(frames, samples=None):
    decoded = [working(p) for p in frames]
    ranked = samples or [(i, d.pixels) for i, d in enumerate(decoded)]
    road = bg.background_from_samples(ranked, bg.DEFAULT_SAMPLES)
    return [boxes(bg.find_vehicles(d.pixels, road, d.scale)) for d in decoded]


def test_light_that_changes_from_frame_to_frame_neither_creates_nor_hides_vehicles(frames):
    rng = np.random.default_rng(1)
    drifted = []
    for pixels in frames:  # exposure from 0.7 to 1.3 and a colour cast of up to 8 %
        gains = rng.uniform(0.7, 1.3) * rng.uniform(0.92, 1.08, 3)
        drifted.append(np.clip(pixels * gains, 0, 255).round().astype(np.uint8))
    steady, changing = tag_all(frames), tag_all(drifted)
    same = 0
    for a, b in zip(steady, changing):  # the same vehicle: same type, box IoU >= 0.8
        pairs = match([x[1:] for x in a], [y[1:] for y in b], threshold=0.8)
        same += sum(a[i][0] == b[j][0] for i, j in pairs)
    total = sum(len(a) for a in steady)
    assert total > 100
    assert same >= 0.97 * total, (same, total)
    assert abs(sum(len(b) for b in changing) - total) <= 0.02 * total


def test_a_frozen_camera_does_not_pollute_the_empty_road(frames):
    half = FRAMES // 2
    live = frames[:half]
    # the second half repeats one frame, ranked in among the live ones
    frozen = live + [frames[half]] * half
    decoded = [working(p) for p in frozen]
    ranked = [(i if i < half else i - half + 0.5, d.pixels) for i, d in enumerate(decoded)]
    road_frozen = bg.background_from_samples(ranked, bg.DEFAULT_SAMPLES)
    road_live = bg.background_from_samples(
        [(i, d.pixels) for i, d in enumerate(decoded[:half])]
        + [(0.5, decoded[half].pixels)], bg.DEFAULT_SAMPLES)
    assert np.array_equal(road_frozen, road_live)  # the repeats count once
    for d in decoded[:half]:
        assert boxes(bg.find_vehicles(d.pixels, road_frozen, d.scale)) == boxes(
            bg.find_vehicles(d.pixels, road_live, d.scale))
