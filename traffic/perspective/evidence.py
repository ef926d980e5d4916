"""The evidence a frame holds against its camera's empty road, for the
perspective tagger: which pixels are clearly a vehicle (different from the
road at the frame's light and not a shadow on it), which may be either
(shadow-like, or faintly different: a vehicle's own shaded side, grey paint
on a grey road), the frame's colours white-balanced on the lane markings,
and the isolated vehicle blobs of a camera's sample frames that its camera
model is learned from.
"""

import typing

import numpy as np
from scipy import ndimage

from traffic import background as bg
from traffic import lanes
from traffic.markings import marking_pixels
from traffic.colour import colour_votes
from traffic.vocabulary import COLOURS

# A cast shadow is the road lit by the sky alone: darker than the road by a
# common factor in every channel, and the same factor for every shadow in a
# frame (one sun, one sky).  The sky gives at least about a tenth of the
# light, which a camera's gamma makes about a third of the road's value:
# darker is a vehicle's black (tyres, chassis, glass).  (0.25 until a frame
# without cast shadows was seen to take a truck's black chassis for one.)
SHADOW_RATIO = (0.35, 0.9)  # darkening factors a shadow can have
SHADOW_CHROMA_SPREAD = 0.1  # the channels' factors agree this closely
SHADOW_BAND = 0.07  # around the frame's most common factor
MIN_SHADOW_PIXELS = 50
DARK_GLASS = 0.5  # a window seen from outside: under half the road's value
FAINT_DIFFERENCE = 10  # grey levels: below background.FOREGROUND_THRESHOLD, above noise
# No shadow brightens the road: a pixel brighter than the empty road in every
# channel, by this many times the frame's noise, is a vehicle's paint however
# close its grey is to the road's (a silver car on concrete).  (Set on seeds
# 101-106: 2 raised recall on each, 1.5 did about as well, 2.5 and 3 less;
# then checked on seeds 111-114, which no tuning run had used: recall up on
# each.)
BRIGHTER_NOISE = 2.0
MIN_BRIGHTER = 2.0  # grey levels: the frame and the road are each rounded to a level
# Grey paint on a grey road can differ from it by less than
# FAINT_DIFFERENCE, yet by several times the frame's noise: a pixel that
# differs from the empty road, in some channel, by more than FAINT_NOISE
# times the frame's noise (``frame_noise``: that of the mean of the three
# channels, about 0.6 of one channel's where the channels' noise is
# independent), other than by darkening about evenly in every channel (as
# the soft edge of a shadow does: SHADOW_CHROMA_SPREAD), may be such paint
# (``faint_paint``).  Under a car whose windows are seen it counts as a
# pixel that may be either, not as road (``search.Search``).  (Set on seeds
# 101-103, where 3 raised recall on each by 0.8-1.0, precision -0.06..-0.4;
# 2.5 more recall for precision; without the shadow test, motorcycles
# and their shadows were taken for grey cars.  Then checked on 104-106 and
# on fresh seeds 220-222: recall +0.6..+1.1, precision -0.2..-0.7, F1 up
# on each.)
FAINT_NOISE = 3.0
MIN_FAINT = 3.0  # grey levels, at the least
# The level (sRGB) white lane paint is named at: set on the tuning seeds (it
# is also the generator's marking paint, so colour figures on generated
# scenes are optimistic about it).
MARKING_WHITE = 215.0
_BLACK = COLOURS.index("black")
# A white body's faces turned from the sun read silver, so for the share of
# a vehicle's one paint (a bus's, a truck body's, against a queue of cars of
# several) white and silver count as one paint.  Grey does not join them: it
# is also what the shade between the cars of a queue reads.  (On seeds
# 101-106, with search.LONG_PAINT 0.55: recall and precision up, the count
# of every type nearer the truth; white, silver and grey as one, or silver
# and grey as one too, swallowed queues of cars whole.)
SAME_PAINT = (("white", "silver"),)
_SAME_PAINT = tuple(tuple(COLOURS.index(name) for name in family) for family in SAME_PAINT)


def shadow_mask(frame, road, foreground):
    """Foreground pixels of ``frame`` (light-normalised, int16) that are the
    ``road`` (uint8) in shadow."""
    rows, cols = np.nonzero(foreground)  # only they can be: a few tenths of the frame at most
    mean, spread = _darkening(frame, road, rows, cols)
    candidate = ((mean >= SHADOW_RATIO[0]) & (mean <= SHADOW_RATIO[1])
                 & (spread <= SHADOW_CHROMA_SPREAD))
    shadow = np.zeros(foreground.shape, dtype=bool)
    if candidate.sum() < MIN_SHADOW_PIXELS:
        return shadow
    bins = int(round((SHADOW_RATIO[1] - SHADOW_RATIO[0]) / 0.01))
    hist, edges = np.histogram(mean[candidate], bins=bins, range=SHADOW_RATIO)
    peak = int(ndimage.gaussian_filter1d(hist.astype(np.float64), 2).argmax())
    factor = (edges[peak] + edges[peak + 1]) / 2
    keep = candidate & (np.abs(mean - factor) <= SHADOW_BAND)
    shadow[rows[keep], cols[keep]] = True
    return shadow


def _darkening(frame, road, rows, cols):
    """(mean, spread) of the factors by which ``frame``'s channels at
    (rows, cols) differ from the ``road``'s: a shadow darkens every channel
    by about one factor (a small spread)."""
    ratio = ((frame[rows, cols].astype(np.float32) + 1.0)
             / (road[rows, cols].astype(np.float32) + 1.0))
    r, g, b = ratio[:, 0], ratio[:, 1], ratio[:, 2]  # channel by channel: far cheaper than along axis -1
    mean = (r + g + b) / np.float32(3)
    spread = (np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)) / np.maximum(mean, 1e-6)
    return mean, spread


def frame_noise(difference):
    """The noise of a frame's difference from its empty road (int16, per
    channel): a robust standard deviation (1.4826 median absolute
    deviations) of the channels' mean, which the road - most of any frame -
    decides, not the vehicles."""
    level = bg._channel_sum(difference).astype(np.int32)  # three times the mean
    twice = int(2 * _median_of_integers(level))  # a whole number: the median may be half-way
    return 1.4826 * (_median_of_integers(np.abs(2 * level - twice)) / 2) / 3


def _median_of_integers(values):
    """``np.median`` of an integer array, the same float, found by counting
    the values rather than by partitioning them (a frame's worth, twice per
    frame)."""
    low = int(values.min())
    count = np.cumsum(np.bincount((values - low).ravel()))
    # the middle value, or the two middle values' mean, as numpy takes it
    below, above = np.searchsorted(count, [(count[-1] - 1) // 2, count[-1] // 2], side="right")
    return (float(below + low) + float(above + low)) / 2


def brighter_pixels(difference, noise):
    """Pixels brighter than the empty road in every channel beyond the
    frame's ``noise`` (``frame_noise``; ``BRIGHTER_NOISE``): no shadow
    brightens the road."""
    least = np.minimum(np.minimum(difference[..., 0], difference[..., 1]), difference[..., 2])
    return least > max(BRIGHTER_NOISE * noise, MIN_BRIGHTER)


class Evidence(typing.NamedTuple):
    """``frame_evidence``'s: boolean masks but ``frame``."""
    mask: np.ndarray  # vehicle pixels
    unsure: np.ndarray  # pixels that may be either
    frame: np.ndarray  # the frame at the road's light, int16
    faint: np.ndarray  # of the rest, faint paint (``faint_paint``)


def frame_evidence(pixels, road, gains=None):
    """The ``Evidence`` of a frame: vehicle pixels, pixels that may be
    either, the frame at the road's light, and faint paint.  Vehicle pixels
    differ clearly from the empty road and are not a
    shadow on it, or are brighter than it in every channel, beyond the
    frame's noise, which no shadow is (each kind with its specks removed;
    then small gaps closed).  A vehicle's own shaded faces can look just
    like a shadow, and dark grey paint like the road, so what is
    shadow-like or differs only faintly otherwise is neither evidence of a
    vehicle nor against one.  Holes are not filled: in dense traffic the
    road and the shadows between the vehicles of a queue are enclosed by
    them, and a filled gap is a vehicle's worth of false evidence (on seeds
    101-106, not filling raised recall by 1.0-5.1 and precision by 1.2-3.4
    on each; then checked on seeds 191-193, which no run had used: recall
    +0.7..+3.9, precision +1.2..+3.2)."""
    mask, unsure, frame, most, noise = _clear_and_unsure(pixels, road, gains)
    return Evidence(mask, unsure, frame, faint_paint(frame, road, most, noise, mask | unsure))


def _clear_and_unsure(pixels, road, gains):
    """``frame_evidence`` but the faint paint: (vehicle pixels, pixels that
    may be either, the frame at the road's light), and what ``faint_paint``
    reads of it (each pixel's largest channel difference from the road, the
    frame's noise)."""
    frame, foreground = bg.differences(pixels, road, gains)
    difference = frame - road.astype(np.int16)
    noise, most = frame_noise(difference), bg._channel_max(difference)
    shadow = shadow_mask(frame, road, foreground)
    mask = _without_specks(foreground & ~shadow) | _without_specks(brighter_pixels(difference, noise))
    mask = _gaps_closed(mask)
    unsure = (shadow | (most > FAINT_DIFFERENCE)) & ~mask
    return mask, unsure, frame, most, noise


# The mask's clean-up, as whole-array operations: each is exactly scipy's
# binary_opening (2x2) and binary_closing (3x3), at a fraction of their
# cost (tests/test_perspective.py compares them).
def _without_specks(mask):
    """The pixels of ``mask`` in some 2x2 block that is all ``mask``."""
    block = mask[:-1, :-1] & mask[1:, :-1] & mask[:-1, 1:] & mask[1:, 1:]
    kept = np.zeros_like(mask)
    kept[:-1, :-1] |= block
    kept[1:, :-1] |= block
    kept[:-1, 1:] |= block
    kept[1:, 1:] |= block
    return kept


def _gaps_closed(mask):
    """``mask`` grown by a pixel each way (3x3) and shrunk back, outside the
    frame counting as empty (so the frame's outermost pixels are dropped)."""
    rows = mask.copy()
    rows[:, 1:] |= mask[:, :-1]
    rows[:, :-1] |= mask[:, 1:]
    grown = rows.copy()
    grown[1:] |= rows[:-1]
    grown[:-1] |= rows[1:]
    rows = np.zeros_like(mask)
    rows[:, 1:-1] = grown[:, :-2] & grown[:, 1:-1] & grown[:, 2:]
    shrunk = np.zeros_like(mask)
    shrunk[1:-1] = rows[:-2] & rows[1:-1] & rows[2:]
    return shrunk


def faint_paint(frame, road, most, noise, evidence):
    """Pixels of a frame at the road's light (int16) that are not
    ``evidence`` (vehicle or unsure pixels) but differ from the empty
    ``road`` in some channel (``most``: each pixel's largest difference,
    ``bg._channel_max``) beyond ``FAINT_NOISE`` times the frame's ``noise``
    (``frame_noise``), other than by an even darkening: what grey paint on
    a grey road can show of itself."""
    limit = max(FAINT_NOISE * noise, MIN_FAINT)
    faint = (most > limit) & ~evidence
    rows, cols = np.nonzero(faint)
    mean, spread = _darkening(frame, road, rows, cols)
    even = (mean < 1) & (spread <= SHADOW_CHROMA_SPREAD)
    faint[rows[even], cols[even]] = False
    return faint


def dark_pixels(mask, frame, road):
    """Vehicle pixels (``mask``) of a frame at the road's light darker than
    ``DARK_GLASS`` of the empty road's value there: glass, tyres, black
    paint (a shadow on the road is not a vehicle pixel)."""
    return mask & (bg._channel_sum(frame) < DARK_GLASS * bg._channel_sum(road))


def vehicle_mask(pixels, road):
    """Pixels of a frame that are vehicles: different from the empty road
    (at the frame's light), not a shadow on it, specks removed, small gaps
    closed (no faint paint: the camera's sample frames need none)."""
    return _clear_and_unsure(pixels, road, None)[0]


def main_paint(pixels):
    """(the most common paint of RGB pixels, glass, tyres and shade (black)
    aside: its names, indices into COLOURS - one, or a family of
    ``SAME_PAINT``; the share of those pixels it has); (None, None) where
    only those are left."""
    votes = colour_votes(pixels)
    votes[_BLACK] = 0
    total = votes.sum()
    if total == 0:
        return None, None
    names = (int(votes.argmax()),)
    for family in _SAME_PAINT:
        if votes[list(family)].sum() > votes[list(names)].sum():
            names = family
    return names, votes[list(names)].sum() / total


def paint_share(pixels):
    """``main_paint``'s share."""
    return main_paint(pixels)[1]


def white_balance(road):
    """Per-channel gains that make the camera's lane markings, white paint on
    every highway, ``MARKING_WHITE`` on its empty road: the reference a
    frame's colours are named against once it is at the empty road's light,
    so exposure, the time of day and the camera's colour cast do not change
    a paint's name.  Ones where no markings are seen."""
    rows, cols = marking_pixels(road)
    if len(rows) < lanes.MIN_MARKING_PIXELS:
        return np.ones(3)
    reference = np.median(road[rows, cols].astype(np.float64), axis=0)
    return MARKING_WHITE / np.maximum(reference, 1.0)


def isolated_blobs(pixels, road):
    """[(u, v, width, height)] of the frame's vehicle blobs that the frame's
    edge does not cut: (u, v) the middle of its lowest row (its lower edge),
    sizes in pixels.  What ``camera_model.learn_camera`` learns from."""
    labels, _ = ndimage.label(vehicle_mask(pixels, road))
    h, w = labels.shape
    out = []
    for index, (ys, xs) in enumerate(ndimage.find_objects(labels), start=1):
        if xs.start == 0 or ys.start == 0 or xs.stop == w or ys.stop == h:
            continue
        rows, cols = np.nonzero(labels[ys, xs] == index)
        low = rows.max()
        out.append((float(cols[rows == low].mean() + xs.start + 0.5), float(ys.start + low + 1),
                    int(xs.stop - xs.start), int(ys.stop - ys.start)))
    return out


def empty_road_and_blobs(samples, size=bg.DEFAULT_SAMPLES):
    """(empty road, frames it was made of, isolated vehicle blobs of those
    frames) of one camera from [(rank, working-size pixels)] of its frames
    (``background.sample_frames`` picks them): what the camera's geometry is
    learned from."""
    frames = bg.sample_frames(samples, size)
    road = bg.estimate_background(frames)
    return road, len(frames), [b for f in frames for b in isolated_blobs(f, road)]
