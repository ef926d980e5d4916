import numpy as np
import pytest

from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from traffic.colour import (CAR_PAINT_SHARE, CHROMATIC_SHARE, NEUTRAL_CHROMA, NEUTRALS, _percentile,
                            colour_votes, name_colour, rgb_to_oklch)
from traffic.vocabulary import COLOUR_RGB, COLOURS


def test_oklab_of_white_black_and_red():
    for rgb, expected in (([255, 255, 255], (1.0, 0.0)), ([0, 0, 0], (0.0, 0.0)),
                          ([255, 0, 0], (0.62796, 0.25768))):  # Ottosson's reference values
        lightness, chroma, hue = rgb_to_oklch(np.array(rgb))
        np.testing.assert_allclose([lightness, chroma], expected, atol=2e-4)
    assert abs(float(rgb_to_oklch(np.array([255, 0, 0]))[2]) - 29.23) < 0.05


def test_eight_bit_pixels_are_decoded_to_the_same_values_as_any_other_integers():
    # 8-bit pixels are decoded by table lookup; every level must give what
    # the sRGB formula gives any other integer (or float) array
    levels = np.stack(np.meshgrid(np.arange(256), [0, 128, 255], [7, 200], indexing="ij"), -1)
    for got, expected in zip(rgb_to_oklch(levels.astype(np.uint8)), rgb_to_oklch(levels)):
        np.testing.assert_array_equal(got, expected)


@given(hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(0, 1)),
       st.sampled_from([0, 25, 50, 75, 90, 100]))
def test_the_lit_level_is_numpys_percentile(values, q):
    assert _percentile(values, q) == np.percentile(values, q)


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


# Named shades from sources other than the ones the naming boundaries were
# set on (car paints, everyday names): light, dark, vivid and muted.
HELD_OUT = {
    "red": [(212, 0, 0), (160, 16, 32), (142, 20, 28), (193, 39, 45), (255, 8, 0), (180, 50, 60)],
    "blue": [(0, 56, 168), (0, 76, 153), (30, 80, 150), (137, 207, 240), (138, 183, 229),
             (25, 25, 60), (20, 30, 70)],
    "green": [(0, 66, 37), (120, 190, 33), (152, 255, 152), (80, 200, 120), (53, 94, 59)],
    "yellow": [(255, 216, 0), (255, 247, 0), (250, 210, 40), (238, 210, 2)],
    "orange": [(255, 103, 0), (255, 130, 0), (255, 117, 24), (242, 133, 0), (255, 120, 20)],
    "brown": [(88, 41, 0), (111, 78, 55), (100, 70, 50), (95, 60, 40), (140, 100, 60)],
    "beige": [(194, 178, 128), (247, 231, 206), (200, 170, 120), (195, 176, 145), (220, 200, 160)],
    "purple": [(142, 69, 133), (153, 102, 204), (111, 45, 168), (100, 40, 140)],
    "white": [(234, 234, 230), (240, 240, 240), (250, 250, 252), (236, 240, 241)],
    "silver": [(170, 169, 173), (191, 193, 194), (180, 180, 185), (166, 166, 166)],
    "grey": [(83, 86, 90), (54, 69, 79), (132, 132, 130), (130, 130, 125)],
    "black": [(52, 52, 52), (11, 19, 25), (15, 15, 15), (10, 10, 12)],
}
SHADE = 0.55  # sRGB factor of paint in a vehicle's own or a cast shadow
LOW_SUN = (1.08, 1.0, 0.85)  # warm morning light


def _patch(rgb, factor=1.0, n=50):
    return np.clip(np.array(rgb, dtype=np.float64) * factor, 0, 255).round().astype(np.uint8)[None].repeat(n, 0)


@pytest.mark.parametrize("name", list(HELD_OUT))
def test_every_shade_of_a_name_gets_that_name(name):
    assert [name_colour(_patch(rgb)) for rgb in HELD_OUT[name]] == [name] * len(HELD_OUT[name])


def test_paint_keeps_its_name_in_shadow_and_in_a_low_sun():
    right = total = 0
    for name, shades in HELD_OUT.items():
        if name in NEUTRALS or name == "beige":
            continue  # white paint in shadow is grey to any camera
        for rgb in shades:
            # a vehicle in the sun with its shaded side; the same vehicle in a low sun
            sunlit = np.concatenate([_patch(rgb, n=20), _patch(rgb, SHADE)])
            right += name_colour(sunlit) == name
            right += name_colour(_patch(rgb, np.array(LOW_SUN))) == name
            total += 2
    assert right >= 0.95 * total, (right, total)


def test_a_white_body_lit_only_on_its_roof_is_white_and_silver_paint_is_not():
    """From a camera mounted high, a white car is white on its sunlit roof
    and bonnet, less than a quarter of what it shows, and silver on its
    shaded sides; silver paint lit the same way stays silver."""
    lit, side, silver_lit = 240, 190, 205
    lightness = lambda v: float(rgb_to_oklch(np.array([v, v, v]))[0])  # noqa: E731
    assert lightness(lit) >= 0.875 > lightness(silver_lit) > lightness(side) >= 0.70
    white_car = np.concatenate([_patch((lit,) * 3, n=15), _patch((side,) * 3, n=85)])
    silver_car = np.concatenate([_patch((silver_lit,) * 3, n=15), _patch((side,) * 3, n=85)])
    assert name_colour(white_car) == "white"
    assert name_colour(silver_car) == "silver"
    # the brighter quarter alone reads both as silver
    assert name_colour(_patch((side,) * 3, n=100)) == "silver"


def test_a_black_cars_gloss_does_not_make_it_grey():
    """Black and grey are read from the brighter quarter, not the brightest
    tenth: a few glossy highlights leave a black car black."""
    black_car = np.concatenate([_patch((150,) * 3, n=12), _patch((30,) * 3, n=88)])
    assert name_colour(black_car) == "black"


def test_a_white_car_tinted_blue_in_the_shade_is_not_a_blue_car():
    """A third of a white car is its side in the shade, tinted by a blue
    sky: too few coloured pixels for a car's paint, which is most of what
    a camera sees of a car.  A motorcycle's or a truck cab's paint may be
    that small a share, so they keep the lower share."""
    tint = (150, 160, 185)
    _, chroma, hue = rgb_to_oklch(np.array(tint))
    assert chroma >= NEUTRAL_CHROMA and 200 <= hue < 290  # blue, faintly
    car = np.concatenate([_patch((240,) * 3, n=55), _patch(tint, n=30), _patch((38, 44, 56), n=15)])
    assert CHROMATIC_SHARE <= 0.3 < CAR_PAINT_SHARE
    assert name_colour(car, CAR_PAINT_SHARE) == "white"
    assert name_colour(car) == "blue"
    # a blue car with as much glass as paint is still blue
    blue_car = np.concatenate([_patch(COLOUR_RGB["blue"]), _patch((38, 44, 56))])
    assert name_colour(blue_car, CAR_PAINT_SHARE) == "blue"
