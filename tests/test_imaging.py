import datetime as dt

import numpy as np
import pytest

from tests import image_cases
from traffic.imaging import UnreadableImage, decode_image, encode_jpeg
from scenes.topdown import HEIGHT, WIDTH


@pytest.mark.parametrize("reduce", [1, 2])
@pytest.mark.parametrize("name", sorted(image_cases.odd_but_valid()))
def test_odd_but_valid_images_decode_upright_to_rgb(name, reduce):
    data = image_cases.odd_but_valid()[name]
    d = decode_image(data, reduce=reduce)
    assert (d.width, d.height) == (WIDTH, HEIGHT)
    assert d.pixels.shape == (HEIGHT // reduce, WIDTH // reduce, 3) and d.pixels.dtype == np.uint8
    reference = image_cases.scene_pixels().astype(np.float64)
    if reduce > 1:
        reference = reference.reshape(HEIGHT // 2, 2, WIDTH // 2, 2, 3).mean(axis=(1, 3))
    # the picture itself survives (grey versions are compared in grey)
    if name.startswith(("grey", "palette")):
        reference = reference.mean(axis=2, keepdims=True)
        got = d.pixels.astype(np.float64).mean(axis=2, keepdims=True)
    else:
        got = d.pixels.astype(np.float64)
    assert np.abs(got - reference).mean() < 12, name


def test_exif_rotated_jpeg_is_upright_at_reduced_scale_too():
    data = image_cases.odd_but_valid()["rotated.jpg"]
    # stored on its side: a reduction to a width is chosen on the upright one
    for d in (decode_image(data, reduce=2), decode_image(data, width=WIDTH // 2)):
        assert (d.width, d.height) == (WIDTH, HEIGHT)
        assert d.pixels.shape == (HEIGHT // 2, WIDTH // 2, 3)
        assert d.scale == 2.0


@pytest.mark.parametrize("name", sorted(image_cases.bad()))
def test_bad_input_is_refused_with_a_specific_reason(name):
    data, words = image_cases.bad()[name]
    with pytest.raises(UnreadableImage, match=words):
        decode_image(data)


def test_pixel_limit_is_checked_before_decoding():
    with pytest.raises(UnreadableImage, match="decompression bomb"):
        decode_image(image_cases.good_jpeg(), max_pixels=WIDTH * HEIGHT - 1)
    assert decode_image(image_cases.good_jpeg(), max_pixels=WIDTH * HEIGHT).width == WIDTH


def test_exif_time_round_trips_and_draft_mode_halves_the_size():
    pixels = image_cases.scene_pixels()
    data = encode_jpeg(pixels, dt.datetime(2026, 3, 10, 7, 45, 12))
    d = decode_image(data, reduce=2)
    assert d.taken_at == "2026-03-10T07:45:12"
    assert d.pixels.shape == (HEIGHT // 2, WIDTH // 2, 3)
    full = decode_image(data)
    assert full.pixels.shape == (HEIGHT, WIDTH, 3) and full.scale == 1.0
    # the draft is a faithful half-size picture
    half = full.pixels.reshape(HEIGHT // 2, 2, WIDTH // 2, 2, 3).mean(axis=(1, 3))
    assert np.abs(half - d.pixels).mean() < 6


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_frame_of_any_size_decodes_to_about_the_working_width(factor, kind):
    """Asked for a width, a frame shrinks by the whole factor nearest it: a
    JPEG by DCT scaling as far as a power of two takes it, then by box
    means (to a sixth: DCT scaling to half, then means of 3 x 3), any other
    format by box means alone; the picture is the same whatever the
    route."""
    import io
    from PIL import Image
    pixels = image_cases.scene_pixels()
    big = Image.fromarray(pixels).resize((WIDTH * factor, HEIGHT * factor), Image.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, kind, **({"quality": 95} if kind == "JPEG" else {}))
    d = decode_image(buffer.getvalue(), width=WIDTH // 2)
    assert (d.width, d.height, d.scale) == (WIDTH * factor, HEIGHT * factor, 2.0 * factor)
    assert d.pixels.shape == (HEIGHT // 2, WIDTH // 2, 3)
    half = pixels.astype(np.float64).reshape(HEIGHT // 2, 2, WIDTH // 2, 2, 3).mean(axis=(1, 3))
    assert np.abs(d.pixels - half).mean() < 6
