"""Colour naming in CIELAB: pure numpy.

``name_colour`` takes the pixels of one vehicle and returns the name, from the
shared 12-name vocabulary, of its dominant colour.  Every pixel votes for its
nearest reference colour in CIELAB and the name with most votes wins, so glass,
tyres, roof fittings and shadow (a minority of a vehicle's pixels, and of other
colours) do not pull the answer the way an average would.
"""

import numpy as np

from traffic.vocabulary import COLOUR_RGB, COLOURS

# sRGB D65 -> XYZ
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb):
    """sRGB (uint8 or float 0-255, shape (..., 3)) to CIELAB (float, (..., 3))."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    eps = 216 / 24389
    f = np.where(xyz > eps, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


REFERENCE_LAB = rgb_to_lab(np.array([COLOUR_RGB[n] for n in COLOURS]))


def nearest_colour_index(lab):
    """Index into COLOURS of the nearest reference, per Lab pixel (CIE76)."""
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    d = ((lab[:, None, :] - REFERENCE_LAB[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)


def colour_votes(pixels):
    """Votes per colour name (array aligned with COLOURS) of RGB pixels."""
    pixels = np.asarray(pixels).reshape(-1, 3)
    if len(pixels) == 0:
        return np.zeros(len(COLOURS), dtype=np.int64)
    return np.bincount(nearest_colour_index(rgb_to_lab(pixels)),
                       minlength=len(COLOURS))


NEUTRALS = frozenset({"white", "silver", "grey", "black"})
_CHROMATIC = np.array([c not in NEUTRALS for c in COLOURS])
CHROMATIC_SHARE = 0.2


def name_colour(pixels):
    """Name of the paint colour of a vehicle's RGB pixels (any shape (..., 3)).

    Tyres, glass, trim, engines and shadow are neutral (black, grey, silver)
    and on a motorcycle or a small car can outnumber the paint.  So when at
    least CHROMATIC_SHARE of the pixels have a chromatic colour, the answer
    is the chromatic colour with the most votes weighted by chroma (a
    saturated red outweighs the same red in shadow, which reads as brown);
    otherwise it is the colour with most votes.  Ties go to the earlier name
    in the vocabulary, so the answer is deterministic.  Raises ValueError on
    no pixels.
    """
    pixels = np.asarray(pixels).reshape(-1, 3)
    if len(pixels) == 0:
        raise ValueError("no pixels to name a colour from")
    lab = rgb_to_lab(pixels)
    index = nearest_colour_index(lab)
    chromatic = _CHROMATIC[index]
    if chromatic.mean() >= CHROMATIC_SHARE:
        chroma = np.hypot(lab[chromatic, 1], lab[chromatic, 2])
        weights = np.bincount(index[chromatic], weights=chroma, minlength=len(COLOURS))
        return COLOURS[int(weights.argmax())]
    return COLOURS[int(np.bincount(index, minlength=len(COLOURS)).argmax())]
