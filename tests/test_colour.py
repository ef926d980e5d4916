import numpy as np
import pytest

from traffic.colour import colour_votes, name_colour, rgb_to_lab
from traffic.vocabulary import COLOUR_RGB, COLOURS


def test_lab_of_white_black_and_red():
    np.testing.assert_allclose(rgb_to_lab([255, 255, 255]), [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(rgb_to_lab([0, 0, 0]), [0, 0, 0], atol=0.01)
    # sRGB red is L*53.24 a*80.09 b*67.20 (CIE reference values)
    np.testing.assert_allclose(rgb_to_lab([255, 0, 0]), [53.24, 80.09, 67.20], atol=0.05)


@pytest.mark.parametrize("name", COLOURS)
def test_every_reference_colour_names_itself(name):
    patch = np.full((6, 6, 3), COLOUR_RGB[name], dtype=np.uint8)
    assert name_colour(patch) == name


@pytest.mark.parametrize("rgb,name", [
    ((250, 250, 250), "white"), ((200, 200, 205), "silver"), ((100, 100, 100), "grey"),
    ((10, 10, 10), "black"), ((220, 20, 20), "red"), ((20, 40, 200), "blue"),
    ((20, 140, 40), "green"), ((250, 220, 0), "yellow"), ((255, 130, 0), "orange"),
    ((120, 75, 40), "brown"), ((225, 205, 160), "beige"), ((110, 30, 140), "purple"),
])
def test_common_shades_get_their_everyday_names(rgb, name):
    assert name_colour(np.array([rgb], dtype=np.uint8)) == name


def test_a_minority_of_glass_and_tyre_pixels_does_not_change_the_answer():
    body = np.full((60, 3), COLOUR_RGB["red"], dtype=np.uint8)
    glass = np.full((25, 3), (38, 44, 56), dtype=np.uint8)
    tyres = np.full((10, 3), (15, 15, 15), dtype=np.uint8)
    assert name_colour(np.concatenate([body, glass, tyres])) == "red"


def test_votes_count_every_pixel_and_no_pixels_is_an_error():
    votes = colour_votes(np.array([COLOUR_RGB["blue"]] * 3 + [COLOUR_RGB["white"]] * 2))
    assert votes.sum() == 5
    assert votes[COLOURS.index("blue")] == 3
    with pytest.raises(ValueError):
        name_colour(np.zeros((0, 3), dtype=np.uint8))


def test_paint_wins_over_a_majority_of_neutral_tyres_engine_and_shadow():
    paint = np.full((25, 3), (200, 20, 25), dtype=np.uint8)  # red tank and fenders
    shade = np.full((10, 3), (110, 60, 45), dtype=np.uint8)  # the same red in shadow (brown)
    neutral = np.concatenate([np.full((35, 3), (20, 20, 20)), np.full((30, 3), (120, 120, 120))]).astype(np.uint8)
    assert name_colour(np.concatenate([paint, shade, neutral])) == "red"
    # a silver car with dark glass and a few coloured reflections stays silver
    car = np.concatenate([np.full((70, 3), COLOUR_RGB["silver"]), np.full((20, 3), (38, 44, 56)),
                          np.full((8, 3), COLOUR_RGB["blue"])]).astype(np.uint8)
    assert name_colour(car) == "silver"
