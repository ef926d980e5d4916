"""Colour naming: pure numpy.

``name_colour`` takes the pixels of one vehicle and returns the name, from the
shared 12-name vocabulary, of its paint.  Names are regions of a perceptual
colour space (Oklab: lightness L, chroma C, hue h), not distances to one
reference value per name, so each name holds over its whole range: light and
dark, vivid and muted.  Hue decides among the chromatic names (it survives
shade and a low sun, which change lightness and chroma); lightness decides
among the neutral ones (black, grey, silver, white), and between orange and
brown, read from the vehicle's lit pixels rather than its shaded ones.

The boundaries follow the everyday use of the names (hue sectors of the
basic colour terms; beige as a light, muted yellow-orange); they are not
taken from any renderer's paints.
"""

import numpy as np

from traffic.vocabulary import COLOURS

# linear sRGB -> LMS -> Oklab (Ottosson 2020)
_OK_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                   [0.2119034982, 0.6806995451, 0.1073969566],
                   [0.0883024619, 0.2817188376, 0.6299787005]])
_OK_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                   [1.9779984951, -2.4285922050, 0.4505937099],
                   [0.0259040371, 0.7827717662, -0.8086757660]])

NEUTRAL_CHROMA = 0.035  # below this a pixel has no colour of its own
NEUTRAL_LIGHTNESS = ((0.34, "black"), (0.70, "grey"), (0.875, "silver"), (9.0, "white"))
HUE_SECTORS = ((40, "red"), (85, "warm"), (115, "yellow"), (200, "green"), (290, "blue"),
               (345, "purple"), (361, "red"))  # upper bounds, degrees
BEIGE = {"max_chroma": 0.085, "min_lightness": 0.70}
ORANGE_MIN_LIGHTNESS = 0.60  # of the lit pixels: darker is brown
CHROMATIC_SHARE = 0.2
# A car's paint is most of what a camera sees of it (its glass and tyres are
# the rest): a car whose coloured pixels are fewer than this share is a
# neutral car tinted by the light (a white body's shaded side under a blue
# sky), not a coloured one.  A motorcycle's tank and a truck's cab can be
# far less of what is seen.  (Set on tuning seeds 101-103, where 0.4 to 0.5
# gave the most cars their right colour, checked on 104-106.)
CAR_PAINT_SHARE = 0.4
LIT_QUANTILE = 75  # the lit side of a vehicle: its brighter quarter of pixels
# White or silver: read from the brightest tenth.  A white body reads white
# only on the faces turned to the light (from a camera mounted high, its roof
# and bonnet: often less than a quarter of what it shows) and silver or grey
# on the others; silver paint does not reach white even where lit.  Black
# and grey stay read from the quarter: a black car's gloss would pass for
# grey in its brightest tenth.
WHITE_QUANTILE = 90
NEUTRALS = frozenset({"white", "silver", "grey", "black"})
_INDEX = {name: i for i, name in enumerate(COLOURS)}
_WHITE_FROM = dict((name, limit) for limit, name in NEUTRAL_LIGHTNESS)["silver"]
_SECTOR_BOUNDS = np.array([b for b, _ in HUE_SECTORS])
_SECTOR_NAMES = np.array([_INDEX.get(n, _INDEX["orange"]) for _, n in HUE_SECTORS])


def _decode_srgb(rgb):
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_LEVELS = _decode_srgb(np.arange(256))  # the same values, looked up for 8-bit pixels


def _linear(rgb):
    if isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8:
        return _LINEAR_LEVELS[rgb]
    return _decode_srgb(rgb)


def rgb_to_oklch(rgb):
    """sRGB (..., 3) to Oklab lightness (0-1), chroma and hue (degrees)."""
    lab = np.cbrt(_linear(rgb) @ _OK_M1.T) @ _OK_M2.T
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360
    return lab[..., 0], chroma, hue


def _pixel_names(lightness, chroma, hue):
    """Index into COLOURS per pixel; orange/brown are settled per vehicle,
    so warm pixels come back as orange here."""
    names = np.empty(lightness.shape, dtype=np.int64)
    neutral = chroma < NEUTRAL_CHROMA
    for limit, name in reversed(NEUTRAL_LIGHTNESS):
        names[neutral & (lightness < limit)] = _INDEX[name]
    sector = np.searchsorted(_SECTOR_BOUNDS, hue, side="right")
    names[~neutral] = _SECTOR_NAMES[np.minimum(sector[~neutral], len(HUE_SECTORS) - 1)]
    warmish = ~neutral & (hue >= HUE_SECTORS[0][0]) & (hue < HUE_SECTORS[2][0])
    beige = warmish & (chroma < BEIGE["max_chroma"]) & (lightness >= BEIGE["min_lightness"])
    names[beige] = _INDEX["beige"]
    return names


def pixel_names(pixels):
    """Index into COLOURS of each of RGB pixels (..., 3), flattened (warm
    pixels as orange: orange and brown are told apart per vehicle)."""
    pixels = np.asarray(pixels).reshape(-1, 3)
    if len(pixels) == 0:
        return np.zeros(0, dtype=np.int64)
    return _pixel_names(*rgb_to_oklch(pixels))


def colour_votes(pixels):
    """Votes per colour name (array aligned with COLOURS) of RGB pixels."""
    return np.bincount(pixel_names(pixels), minlength=len(COLOURS))


_CHROMATIC = np.array([c not in NEUTRALS for c in COLOURS])


def _percentile(values, q):
    """``np.percentile(values, q)`` (linear interpolation, numpy's own
    arithmetic) of a non-empty 1-D array, without its overhead: it is taken
    once or twice per vehicle."""
    index = (len(values) - 1) * (q / 100)
    low = int(np.floor(index))
    high = min(low + 1, len(values) - 1)
    ordered = np.partition(values, (low, high))
    a, b = ordered[low], ordered[high]
    t = index - low
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def name_colour(pixels, paint_share=CHROMATIC_SHARE):
    """Name of the paint colour of a vehicle's RGB pixels (any shape (..., 3)).

    Tyres, glass, trim, engines and shadow are neutral and on a motorcycle or
    a small car can outnumber the paint.  So when at least ``paint_share``
    (CHROMATIC_SHARE; for a car, CAR_PAINT_SHARE) of the pixels
    have a colour, the answer is the chromatic name with the most
    votes weighted by chroma (a saturated paint outweighs its greyish
    reflections); otherwise the neutral name of the vehicle's lit pixels
    (white where its brightest tenth is: ``WHITE_QUANTILE``).
    Orange and brown are one hue family told apart by the lightness of its
    lit pixels.  Ties go to the earlier name in the vocabulary, so the answer
    is deterministic.  Raises ValueError on no pixels.
    """
    pixels = np.asarray(pixels).reshape(-1, 3)
    if len(pixels) == 0:
        raise ValueError("no pixels to name a colour from")
    lightness, chroma, hue = rgb_to_oklch(pixels)
    names = _pixel_names(lightness, chroma, hue)
    chromatic = _CHROMATIC[names]
    if chromatic.mean() >= paint_share:
        weights = np.bincount(names[chromatic], weights=chroma[chromatic], minlength=len(COLOURS))
        best = COLOURS[int(weights.argmax())]
        if best == "orange":
            lit = _percentile(lightness[names == _INDEX["orange"]], LIT_QUANTILE)
            best = "orange" if lit >= ORANGE_MIN_LIGHTNESS else "brown"
        return best
    neutral = lightness[~chromatic]
    name = next(name for limit, name in NEUTRAL_LIGHTNESS if _percentile(neutral, LIT_QUANTILE) < limit)
    if name == "silver" and _percentile(neutral, WHITE_QUANTILE) >= _WHITE_FROM:
        return "white"
    return name
