"""The model-free tagger for fixed cameras: background subtraction.

A fixed camera sees the same empty road behind the traffic.  From a sample of
one camera's frames, ``estimate_background`` recovers that road per pixel as
the densest cluster of values (the road is the one value that keeps coming
back; vehicles of every colour pass over it), which holds while a pixel shows
road in more frames than any single vehicle colour - far beyond the 50 % a
plain median needs.  ``find_vehicles`` then segments a frame against it, splits
the foreground into connected blobs, and tags each blob with a type (from its
size in metres and, for long vehicles, its shape) and a colour.

Assumptions, documented in the README: a top-down (or near top-down) view with
the road running left to right, a known scale (``pixels_per_metre``: learned
per camera, ``calibration.topdown_scale``), moving
traffic (a vehicle that stands in the same place in most sampled frames becomes
part of the background), no vehicles touching each other in the image.
Vehicles cut by the left or right edge of the frame are not counted.
"""

import collections
import hashlib

import numpy as np
from scipy import ndimage

from traffic.colour import name_colour
from traffic.records import Detection

# The tagger works on frames reduced by a whole factor (JPEG draft mode) to
# about this width, whatever their full size: half of a 640-pixel frame, a
# quarter of a 1280-pixel one, a sixth of full HD.  What it learns of a
# camera from its working-size frames (its empty road, the vehicle blobs its
# focal length and lanes come from) then holds at every resolution: at half
# of a 1280-pixel frame, the sensor's noise made specks of a few pixels in
# thousands, and the lanes learned from them were half a lane off.
WORK_WIDTH = 320
# Frames per camera the empty road is estimated from.  A slow jam can hold a
# lane for a good part of a short run, and the road behind it is the value
# seen most often only where enough frames show it (21 until the tuning
# seeds' jams were seen to leave standing cars in their empty roads).
DEFAULT_SAMPLES = 40
DEFAULT_PIXELS_PER_METRE = 10.0
CLUSTER_TOLERANCE = 0.07  # log units (7 %): how close two samples of the road are
DARK_OFFSET = 8.0  # grey levels added before the log: sensor noise near black
# Far up a busy road a pixel shows the road in few frames: vehicles of
# every colour pass over it, and the densest cluster there can be a few
# frames of one vehicle, or of the shadows under a queue.  Where fewer than
# this share of the sample agree on a pixel's value (the best cluster) and
# that value is unlike the road around it (the median of the estimate over
# ROAD_AROUND_PX x ROAD_AROUND_PX pixels, by more than ROAD_LIKE, log units), the
# pixel takes the cluster of at least two frames closest to that road.
# (Set on seeds 101-106: the estimate's pixels unlike the generator's true
# road halved, recall and precision up by 0.4 and 0.5 on average; 0.4 lost
# one camera's calibration.  Then checked on seeds 186-188, which no run had
# used: recall +0.2..+1.0, precision -0.3..+2.5.)
SEEN_SHARE = 0.25
ROAD_AROUND_PX = 9  # working pixels: wider than a far car
ROAD_LIKE = 2 * CLUSTER_TOLERANCE
FOREGROUND_THRESHOLD = 20  # grey levels: how far from the road a vehicle is
ALONG_ROAD_CLOSING_PX = 5  # working pixels (1 m at the default scale)

# Length (m) limits between the types.  Buses are 10.5-13.5 m; shorter long
# vehicles are rigid trucks, longer ones articulated trucks.
MOTORCYCLE_MAX_LENGTH_M = 3.0
CAR_MAX_LENGTH_M = 6.5
BUS_LENGTH_M = (10.25, 13.75)
CAB_LENGTH_M = 2.3
MIN_LENGTH_M, MIN_WIDTH_M = 1.5, 0.5


def sample_rank(camera, image):
    """A stable pseudo-random rank: the background sample is the K smallest.

    It depends on the camera and the file's name only, never on where the data
    set lives or on the order files are read in, so every runner picks the same
    sample.
    """
    name = image.rstrip("/").rsplit("/", 1)[-1]
    return int.from_bytes(hashlib.sha1(f"{camera}/{name}".encode()).digest()[:8], "big")


def _channel_max(d):
    """max over the last axis (3 channels) of |d|, as two elementwise maxima
    (several times faster than a reduction over an axis of length 3)."""
    d = np.abs(d)
    return np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2])


def _channel_sum(d):
    """The sum over the last axis (3 channels) of ``d``, in int16, as two
    elementwise sums (see ``_channel_max``)."""
    d = np.asarray(d, dtype=np.int16)
    return d[..., 0] + d[..., 1] + d[..., 2]


def channel_gains(pixels, reference):
    """Per-channel gain of a frame against a reference view of the same
    camera: the median ratio over the pixels, which the road, verges and sky
    (most of any frame) decide, not the vehicles.  It follows the light
    through the day, passing clouds and the camera's exposure."""
    step = (slice(None, None, 3), slice(None, None, 3))  # a sparse grid decides it as well
    ratio = ((np.asarray(pixels[step], dtype=np.float32) + 1.0)
             / (np.asarray(reference[step], dtype=np.float32) + 1.0))
    return np.median(ratio.reshape(-1, 3), axis=0)


def normalise_light(pixels, gains):
    """A frame divided by its gains (int16, clipped to 0..255)."""
    return np.clip(np.asarray(pixels, dtype=np.float32) / gains, 0, 255).round().astype(np.int16)


def estimate_background(frames):
    """The empty road behind a list of same-sized uint8 RGB frames.

    Every frame is first brought to the sample's common light (its gains
    against the per-pixel median of the sample).  Then per pixel: the sample
    with the most other samples within CLUSTER_TOLERANCE, and the mean of
    that cluster.  Closeness is relative (in log units): light changes
    multiply a pixel's value, so an absolute tolerance would let the tight
    values of dark vehicles and shadows outvote a brighter road whose samples
    drift further apart.  Where few samples agree on a pixel and their value
    is unlike the road around it, the cluster closest to that road
    (``_road_like``).
    """
    if not frames:
        raise ValueError("no frames to estimate a background from")
    stack = np.stack([np.asarray(f, dtype=np.int16) for f in frames])
    if len(stack) >= 3:
        rough = np.median(stack, axis=0)
        stack = np.stack([normalise_light(f, channel_gains(f, rough)) for f in stack])
    logs = np.log(stack.astype(np.float32) + DARK_OFFSET)
    k = len(stack)
    support = np.ones((k,) + stack.shape[1:3], dtype=np.int16)  # each sample supports itself
    for i in range(k - 1):  # each pair once
        close = _channel_max(logs[i + 1:] - logs[i]) <= CLUSTER_TOLERANCE
        support[i] += close.sum(axis=0, dtype=np.int16)
        support[i + 1:] += close
    best = _road_like(logs, support, support.argmax(axis=0))
    centre = np.take_along_axis(logs, best[None, ..., None], axis=0)[0]
    members = _channel_max(logs - centre) <= CLUSTER_TOLERANCE
    total = (stack * members[..., None]).sum(axis=0)
    return (total / members.sum(axis=0)[..., None]).round().astype(np.uint8)


def _road_like(logs, support, best):
    """``best`` (per pixel, the sample whose cluster is the road) where fewer
    than SEEN_SHARE of the samples ``logs`` (log values, (K, H, W, 3)) agree
    on it and its value is unlike the road around it, replaced by the sample
    closest to that road among those some other sample agrees with
    (``support``, (K, H, W): each sample's cluster size), where one lies
    within ROAD_LIKE of it."""
    agreed = np.take_along_axis(support, best[None], axis=0)[0]
    ys, xs = np.nonzero(agreed < SEEN_SHARE * len(logs))
    if not len(ys):
        return best
    centre = np.take_along_axis(logs, best[None, ..., None], axis=0)[0]
    around = _medians_around(centre, ys, xs, ROAD_AROUND_PX)
    unlike = _channel_max(centre[ys, xs] - around) > ROAD_LIKE
    ys, xs, around = ys[unlike], xs[unlike], around[unlike]
    if not len(ys):
        return best
    off = _channel_max(logs[:, ys, xs] - around[None])  # (K, pixels)
    off[support[:, ys, xs] < 2] = np.inf
    pick = off.argmin(axis=0)
    near = off[pick, np.arange(len(ys))] <= ROAD_LIKE
    best = best.copy()
    best[ys[near], xs[near]] = pick[near]
    return best


def _medians_around(image, ys, xs, size):
    """Per channel, the median of ``image`` (H, W, C) over the size x size
    pixels centred on each of pixels (ys, xs), the image mirrored at its
    edges: scipy's ``median_filter`` there, without filtering the whole
    image (only the few pixels the sample disagrees on need it)."""
    half = size // 2
    padded = np.pad(image, ((half, half), (half, half), (0, 0)), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(0, 1))
    return np.median(windows[ys, xs].reshape(len(ys), image.shape[2], -1), axis=-1)


def sample_frames(samples, size=DEFAULT_SAMPLES):
    """The frames that make a camera's empty road, from [(rank, working-size
    pixels)]: the ``size`` best-ranked distinct frames of the camera's most
    common size, so it is always the same frames whatever the order they came
    in, unreadable candidates do not change the answer while enough readable
    ones remain, and a frozen camera's repeats of one frame count once (they
    would otherwise make that frame's vehicles part of the road)."""
    samples = sorted(samples, key=lambda s: s[0])
    shapes = collections.Counter(p.shape for _, p in samples)
    shape = max(shapes, key=lambda s: (shapes[s], s))
    distinct, seen = [], set()
    for _, p in samples:
        if p.shape != shape:
            continue
        digest = hashlib.sha1(np.ascontiguousarray(p).tobytes()).digest()
        if digest not in seen:
            seen.add(digest)
            distinct.append(p)
    return distinct[:size]


def road_reduce(decoded, road):
    """Full-size pixels per pixel of a camera's empty ``road``: of the
    reductions its candidate frames were decoded at, [(working-size pixels,
    reduction)], the commonest among the frames of the road's size
    (``sample_frames`` makes it of the camera's commonest size); 1 where
    none is."""
    count = collections.Counter(r for pixels, r in decoded if pixels.shape == road.shape)
    return max(count, key=lambda r: (count[r], r)) if count else 1


def background_from_samples(samples, size=DEFAULT_SAMPLES):
    """The empty road from [(rank, working-size pixels)] of one camera (see
    ``sample_frames``)."""
    return estimate_background(sample_frames(samples, size))


def differences(pixels, background, gains=None):
    """(the frame brought to the empty road's light (int16), pixels that
    differ from the road): what every background tagger starts from.
    ``gains``: the frame's ``channel_gains``, where the caller has them."""
    if pixels.shape != background.shape:
        raise ValueError(
            f"frame is {pixels.shape[1]}x{pixels.shape[0]} at working scale but the "
            f"camera's background is {background.shape[1]}x{background.shape[0]}")
    frame = normalise_light(pixels, channel_gains(pixels, background) if gains is None else gains)
    return frame, _channel_max(frame - background.astype(np.int16)) > FOREGROUND_THRESHOLD


def foreground_mask(pixels, background):
    """Pixels that differ from the empty road (isolated specks removed)."""
    _, mask = differences(pixels, background)
    return ndimage.binary_opening(mask, structure=np.ones((2, 2), dtype=bool))


def close_along_road(mask):
    """Close short gaps along the road, then fill holes: glass and dark
    couplings can be close to the road's colour and would cut a car or a truck
    in two.  (The erosion treats the outside as foreground, so a vehicle cut
    by the frame edge stays touching it.)"""
    along = np.ones((1, ALONG_ROAD_CLOSING_PX), dtype=bool)
    mask = ndimage.binary_erosion(ndimage.binary_dilation(mask, along), along, border_value=1)
    return ndimage.binary_fill_holes(mask)


def find_vehicles(pixels, background, scale=1.0,
                  pixels_per_metre=DEFAULT_PIXELS_PER_METRE):
    """Vehicles in one frame.

    ``pixels`` and ``background`` are uint8 RGB at the same working size;
    ``scale`` is full-size pixels per working pixel and ``pixels_per_metre``
    is at full size.  Boxes are returned in full-size pixels.
    """
    raw = foreground_mask(pixels, background)
    labels, _ = ndimage.label(close_along_road(raw))
    # blobs whose own pixels touch the left or right edge: cut by the frame
    cut = set(np.unique(labels[:, 0][raw[:, 0]])) | set(np.unique(labels[:, -1][raw[:, -1]]))
    metres_per_px = scale / pixels_per_metre
    found = []
    for index, (ys, xs) in enumerate(ndimage.find_objects(labels), start=1):
        if index in cut:
            continue  # cut by the frame edge: counted where it is whole
        length_m = (xs.stop - xs.start) * metres_per_px
        width_m = (ys.stop - ys.start) * metres_per_px
        if length_m < MIN_LENGTH_M or width_m < MIN_WIDTH_M:
            continue
        blob = labels[ys, xs] == index
        region = pixels[ys, xs]
        kind = classify(length_m, width_m)
        colour = (_truck_colour(region, blob, metres_per_px) if kind == "truck"
                  else _body_colour(region, blob))
        found.append(Detection(
            type=kind, colour=colour,
            score=round(float(blob.mean()), 4),
            x0=int(round(xs.start * scale)), y0=int(round(ys.start * scale)),
            x1=int(round(xs.stop * scale)), y1=int(round(ys.stop * scale))))
    return found


def classify(length_m, width_m):
    """Vehicle type from its footprint in metres."""
    if length_m < MOTORCYCLE_MAX_LENGTH_M and width_m < 1.3:
        return "motorcycle"
    if length_m < CAR_MAX_LENGTH_M:
        return "car"
    if BUS_LENGTH_M[0] <= length_m <= BUS_LENGTH_M[1]:
        return "bus"
    return "truck"


def _body_colour(region, blob):
    inner = ndimage.binary_erosion(blob)
    if inner.sum() < 4:
        inner = blob
    return name_colour(region[inner])


def _truck_colour(region, blob, metres_per_px):
    """Colour of a truck's cab: the end piece before the dark chassis gap.

    The cab end is the one with the darker transverse band 2.1-2.9 m in; with
    no clear band (a black cab), the front is taken to be the end that differs
    most in colour from the middle of the vehicle.
    """
    inner = ndimage.binary_erosion(blob)
    if inner.sum() < 4:
        inner = blob
    n = region.shape[1]
    luma = region.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    rows = inner.any(axis=1)
    profile = np.median(luma[rows], axis=0)
    cab = max(1, int(round(CAB_LENGTH_M / metres_per_px)))
    lo, hi = int(2.1 / metres_per_px), int(np.ceil(2.9 / metres_per_px)) + 1
    best, best_score = None, -np.inf
    for end in (0, 1):
        p = profile if end == 0 else profile[::-1]
        if len(p) <= hi + 1:
            continue
        band = p[lo:hi].min()
        score = min(np.median(p[:cab]), np.median(p[hi:])) - band
        if score > best_score:
            best, best_score = end, score
    if best is None:
        return _body_colour(region, blob)
    cols = slice(0, cab) if best == 0 else slice(n - cab, n)
    return _body_colour(region[:, cols], blob[:, cols])
