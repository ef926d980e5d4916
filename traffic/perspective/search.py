"""Which vehicles' outlines explain a frame's foreground (step 2 of
``traffic.perspective``): the greedy search over a camera's outlines
(``traffic.silhouettes``), each chosen vehicle's settling, and the pixels
each is the nearest chosen vehicle at.
"""

import numpy as np
from scipy import ndimage

from traffic import camera_model as cm
from traffic import silhouettes as sil
from traffic.perspective.evidence import paint_share

# The search's weights, set on the tuning seeds (never on a judged one):
EXPLAIN_BACKGROUND = 3.5  # road pixels inside an outline cost this many vehicle pixels
# (2.0 until the calibration rules; 3.0 raised recall and precision on each of
# seeds 101-106, 2.5 and 4.0 less; 3.5 with the outlines of parts, where it
# raised precision on each seed and recall on three (within 0.1 on the
# others), 2.5 less, 4.0 about as much)
MIN_GAIN = 0.25  # an outline must explain this share of its area, net of that cost
# (0.4 before outlines kept to lanes, then 0.3; 0.35 with cars' outlines of
# body and cabin, where it raised recall and precision on each of seeds
# 101-106, 0.3 and 0.33 recall for precision, 0.4 precision for recall;
# 0.25 once a rejected long outline's trial cars were put back, where 0.3
# gave precision for recall and 0.2 recall for precision)
MIN_FILL = 0.5  # outlines the foreground fills less than this are not considered
# (a car whose glass is dark counting its unsure pixels too: _car_glass;
# on seeds 101-106 recall up on each seed and precision on five, grey cars
# 47.8 -> 49.2 % right; checked on seeds 153-158: recall up on each,
# precision on five)
# A pixel that may be either vehicle or road costs nothing under a car's or
# motorcycle's outline (their shaded faces look just like a shadow, their
# grey paint like the road), and this share of a road pixel under a bus's or
# truck's: what looks like a shadow there is often the shadow it casts, or
# the gap to the vehicle ahead, which a long outline would otherwise swallow
# for free.  (Set on seeds 101-106: 0.2, 0.3 and 0.5 raised recall and
# precision on each; the truck recall they cost grows with the share, and
# 1.0 traded trucks for cars.  0.2 was then checked on seeds 107-110, which
# no tuning run had used: recall up on each, precision up or level.)
UNSURE_UNDER_LONG = 0.2
# A car's windows are glass, darker than its paint and than the road: a car
# settles where its cabin's glass falls on dark pixels, more than the rest of
# its outline does (a car placed half a car off, across two cars of a
# queue, has its glass on their roofs and bonnets).  The weight, in pixels
# per dark glass pixel beyond the outline's own dark share, was set on
# seeds 101-106 (1 raised precision on each and recall on five, 101 level;
# 0.5 and 2 less), then checked on seeds 107-110: both up on each.
GLASS_WEIGHT = 1.0
# Such a car's unsure pixels not yet explained also add this share of
# themselves to its gain (they add nothing else: a shadow's pixels are
# unsure too).  (Set on seeds 101-106 together with ROAD_SIDE and
# ROAD_SHARE: 0.3 raised recall on five seeds, 0.5 more recall for
# precision; with 0.3 alone precision fell.  Then checked on seeds 161-164,
# which no run had used: recall up on each, precision on three.)
GLASSY_GAIN = 0.3
# A queue of cars shows each car's windows, a bus's or truck's side does
# not: in the trial of the cars inside a long outline (``Search._queue``),
# each car adds this many pixels per dark pixel its glass falls on beyond
# its own dark share elsewhere (``glass_support``).  Where a far queue of
# small cars had been taken for one truck, its cars are now found.  (Set on
# seeds 101-106: 2 raised recall on each and recall and precision's F1 on
# five; 1 about half as much, 4 more recall for more precision.  Then
# checked on seeds 174-176, which no run had used: recall up 0.7 on each,
# precision within -0.4..+0.1, and cars and trucks counted closer to the
# truth on each.)
QUEUE_GLASS = 2.0
# A grey or silver car can match the road so closely at the frame's light
# that its body reads as road: only its windows, its roof and the shadow
# under it stand out, and at EXPLAIN_BACKGROUND per body pixel its outline
# never qualified.  Under a glassy car (its cabin's glass on dark pixels
# beyond its dark share elsewhere: a cast shadow or a patch of road has no
# windows) a road-like pixel costs this share of that.  (Set on seeds
# 101-106: 0.5 raised recall on each, +1.1..+1.8, precision -0.1..+0.2,
# with fewer false motorcycles (pieces of such cars); 0.25 more recall for
# precision, and cars counted further over, 0.1 and 0 far more.  Then
# checked on seeds 177-179, which no run had used: recall +0.9..+1.4,
# precision -0.2..+0.1.)
GLASSY_ROAD = 0.5
# A car or motorcycle also settles where its sides lie on the frame's edges
# (its paint meets the road, or the next vehicle): of its area, what an
# outline whose sides all lie on edges gains.  (Set on seeds 101-106, where
# 0.4-1.0 raised recall and precision on each seed, 0.7 most; a bus's or
# truck's settling it turned towards trucks, so they have none.  Then
# checked on seeds 147-152, which no run had used.)
SETTLE_EDGE = 0.7
PER_SMALL_VEHICLE = 0.2  # share of its area each car of a queue must explain beyond that
SETTLE_OVERLAP = 0.3  # box IoU: how far a chosen vehicle may move when it settles
# A long outline turned down (several paints, or the cars inside it explain
# it better) rules out the long outlines at about its place (box IoU at
# least this), not those further along: a truck's own outline may still be
# chosen there.  (Set on seeds 101-106 with MIN_GAIN 0.25: 0.4 and 0.7 less.)
SAME_PLACE = 0.5
LONG_PAINT = 0.55  # a bus or truck: the share of its most common paint (0.5 before white
# and silver counted as one paint: evidence.SAME_PAINT)
EDGE_WEIGHT = 0.2  # of its area: what an outline whose sides all lie on edges gains in the order
EDGE_FULL = 40.0  # grey levels: a step this large between neighbours is a whole edge
# Two vehicles cannot stand on the same road: once a vehicle is chosen, the
# outlines whose footprints (their kind's length and width, cm.SIZES_M, at
# their road point) overlap its by more than ROAD_SIDE metres across and
# ROAD_SHARE of the shorter one's length along are ruled out.  Where the
# greedy choice took them, a car half on the next car, or a truck over part
# of a queue, left a vehicle uncounted or counted one twice.  (Set on seeds
# 101-106: a share of 0.25 raised precision on five seeds, 0.1 and 0.5
# less; a side of 0.9 less.)  Settling moves each vehicle on its own, and
# two could settle onto one car (its glass and edges draw both): of two
# settled vehicles on the same road only the first chosen is kept
# (``one_per_road``; on seeds 101-106 precision +2.0..+3.7, recall
# -0.4..-0.9 on each, F1 up on each; checked on seeds 180-182, which no
# run had used: precision +2.3..+3.2, recall -0.4..-0.6.  Keeping the one
# the foreground fills most instead did worse on 101-103.)
ROAD_SIDE = 0.3
ROAD_SHARE = 0.25
_LENGTH_M = np.array([cm.SIZES_M[k][0] for k in sil.KINDS])
_WIDTH_M = np.array([cm.SIZES_M[k][1] for k in sil.KINDS])


class Search:
    """Which vehicles' outlines explain a frame's foreground: repeatedly the
    outline that explains the most foreground not yet explained, net of the
    road it covers; a bus or truck only where it explains more than the cars
    and motorcycles that fit inside its box would together (a queue of cars
    fills a long outline too)."""

    def __init__(self, outlines, mask, unsure, paint=None, dark=None, faint=None):
        self.s, self.free, self.paint = outlines, mask.copy(), paint
        self.prefix = sil.row_prefix(mask)  # of free
        # a glassy car's unsure pixels: with the frame's ``faint`` pixels
        # (``evidence.faint_paint``), those too
        wide = unsure if faint is None else unsure | faint
        # what may count toward an outline's fill: vehicle pixels, and given
        # the frame's ``dark`` pixels, a glassy car's unsure ones too
        in_box = _box_counts(mask, outlines.pixel_box)
        if dark is not None:
            cars = outlines.kind == sil.KINDS.index("car")
            in_box[cars] = _box_counts(mask | wide, outlines.pixel_box[cars])
        pre = np.nonzero((in_box >= MIN_FILL * outlines.area) & (outlines.area >= 4))[0]
        prefixes = (self.prefix, sil.row_prefix(unsure)) + (() if dark is None else (sil.row_prefix(dark),))
        fg, maybe, *dark_inside = outlines.counts_each(prefixes, pre)
        area = outlines.area[pre]
        small = np.isin(outlines.kind[pre], sil.SMALL_KINDS)
        glass = (np.zeros(len(pre)) if dark is None
                 else _car_glass(outlines, pre, prefixes[2], dark_inside[0]))
        glassy = glass > 0
        self.unsure_prefix = prefixes[1] if faint is None else sil.row_prefix(wide)
        if faint is not None and glassy.any():
            maybe[glassy] = outlines.counts(self.unsure_prefix, pre[glassy])
        cost = EXPLAIN_BACKGROUND * (area - fg - maybe + UNSURE_UNDER_LONG * ~small * maybe)
        # a glassy car's unsure pixels not yet explained (kept up to date as
        # the foreground is: ``take``); 0 for every other outline
        maybe = np.where(glassy, maybe, 0)
        cost = np.where(glassy, GLASSY_ROAD * cost, cost)
        # the foreground left to explain only shrinks: an outline that does
        # not qualify now never will
        keep = ((fg + maybe >= MIN_FILL * area)
                & (fg + GLASSY_GAIN * maybe - cost >= MIN_GAIN * area))
        self.live = pre[keep]
        self.area = area[keep]
        self.cost = cost[keep]
        self.fg = fg[keep]
        self.maybe = maybe[keep]
        self.glassy = glassy[keep]
        self.glass = glass[keep]
        self.unsure = wide.copy()  # of a glassy car's unsure pixels, those not yet explained
        kind = outlines.kind[self.live]
        self.length, self.width = _LENGTH_M[kind], _WIDTH_M[kind]
        self.across, self.depth = outlines.across[self.live], outlines.depth[self.live]
        self.box = outlines.pixel_box[self.live]
        self.small = small[keep]
        self.alive = np.ones(len(self.live), dtype=bool)
        self.chosen = []
        # which outline goes first: a vehicle's sides are where its paint
        # meets the road or the next vehicle; an outline across two vehicles
        # of a queue has its sides on their paint
        self.edges = None if paint is None else side_edges(paint)
        self.order = (np.zeros(len(self.live)) if paint is None else
                      EDGE_WEIGHT * self.area * edge_support(outlines, self.live, self.edges))

    def gains(self, among=None):
        """What each outline (or each of outlines ``among``, indices) would
        explain, net of the road it covers, plus its sides' edge support
        (``EDGE_WEIGHT``): the greedy order; -inf where it may not be
        chosen."""
        at = slice(None) if among is None else among
        g = self._net(at)
        g[~self.alive[at] | (g < MIN_GAIN * self.area[at])] = -np.inf
        return g + self.order[at]

    def take(self, j, among=None):
        """Choose outline j; what is left to explain, and which outlines
        still qualify, brought up to date among all of them, or among
        outlines ``among`` (indices) alone: a trial whose state is put back
        after it.  Outlines on the road it stands on (``ROAD_SIDE``,
        ``ROAD_SHARE``) no longer qualify."""
        self.alive[j] = False
        self.chosen.append(j)
        at = self.s.pixels(self.live[j])
        self.free[at] = False
        x0, y0, x1, y1 = self.box[j]
        sil.refresh_rows(self.prefix, self.free[y0:y1], y0)
        if self.glassy.any():
            self.unsure[at] = False
            sil.refresh_rows(self.unsure_prefix, self.unsure[y0:y1], y0)
        if among is None:
            hit = np.nonzero(self.alive & sil.overlapping(self.box, x0, y0, x1, y1))[0]
        else:
            hit = among[self.alive[among] & sil.overlapping(self.box[among], x0, y0, x1, y1)]
        self.alive[hit[self._same_road(j, hit)]] = False
        hit = hit[self.alive[hit]]
        if len(hit):
            self.fg[hit] = self.s.counts(self.prefix, self.live[hit])
            glassy = hit[self.glassy[hit]]
            if len(glassy):
                self.maybe[glassy] = self.s.counts(self.unsure_prefix, self.live[glassy])
            self.alive[hit] = self._net(hit) >= MIN_GAIN * self.area[hit]

    def _net(self, at):
        """What outlines ``at`` would explain, net of the road they cover."""
        return self.fg[at] + GLASSY_GAIN * self.maybe[at] - self.cost[at]

    def _same_road(self, j, others):
        """Which of outlines ``others`` (indices) stand on outline j's road
        (``ROAD_SIDE``, ``ROAD_SHARE``)."""
        return _footprints_overlap(self.length[j], self.width[j], self.across[j], self.depth[j],
                                   self.length[others], self.width[others], self.across[others],
                                   self.depth[others])

    def state(self):
        return (self.free.copy(), self.fg.copy(), self.alive.copy(), list(self.chosen), self.prefix.copy(),
                self.unsure.copy(), self.unsure_prefix.copy(), self.maybe.copy())

    def restore(self, state):
        (self.free, self.fg, self.alive, self.chosen, self.prefix,
         self.unsure, self.unsure_prefix, self.maybe) = state

    def _one_body(self, j):
        """Is what a long outline would explain mostly one paint (a bus, a
        truck's body), not the several paints of a queue of cars?"""
        if self.paint is None:
            return True
        at = self.s.pixels(self.live[j])
        share = paint_share(self.paint[at][self.free[at]])  # what is left to explain
        return share is None or share >= LONG_PAINT

    def _small_inside(self, j):
        """The cars and motorcycles (indices) whose boxes lie within
        outline j's (to a pixel)."""
        x0, y0, x1, y1 = self.box[j]
        b = self.box
        return np.nonzero(self.small & (b[:, 0] >= x0 - 1) & (b[:, 2] <= x1 + 1)
                          & (b[:, 1] >= y0 - 1) & (b[:, 3] <= y1 + 1))[0]

    def run(self):
        while True:
            g = self.gains()
            j = int(np.argmax(g)) if len(g) else 0
            if not len(g) or not np.isfinite(g[j]):
                return [self.live[k] for k in self.chosen]
            if self.small[j]:
                self.take(j)
                continue
            if self._one_body(j) and g[j] >= self._queue(j, g[j]):
                self.take(j)
            else:  # several paints, or the queue explains it better
                self.alive[self._same_place(j)] = False

    def _queue(self, j, enough):
        """What the cars and motorcycles inside long outline j's box
        explain, taken one by one, each less PER_SMALL_VEHICLE of its area
        (a trial: stopped once it is more than ``enough``).  The state is
        put back after it either way: where the queue explains it better,
        the search picks its cars again only if they are then the best it
        has, rather than committing to cars placed within the long box alone
        (over a truck, in pieces)."""
        before, trial, queue = self.state(), self._small_inside(j), 0.0
        # each car adds at least MIN_GAIN - PER_SMALL_VEHICLE of its area: more
        # than nothing, so past ``enough`` the answer cannot change
        while len(trial) and queue <= enough:
            gs = self.gains(trial)
            best = int(np.argmax(gs))
            if not np.isfinite(gs[best]):
                break
            k = trial[best]
            queue += gs[best] - PER_SMALL_VEHICLE * self.area[k] + QUEUE_GLASS * self.glass[k]
            self.take(k, trial)
        self.restore(before)
        return queue

    def _same_place(self, j):
        """Long outlines whose boxes overlap long outline j's by at least
        SAME_PLACE (IoU), j among them."""
        return ~self.small & sil.iou_at_least(self.box[j], self.box, SAME_PLACE)


def side_edges(image):
    """Edge strength (0..1) at each pixel of an RGB image: of the steps
    between neighbours in a row within a pixel of it, the strongest (the
    largest step over the channels, a step of EDGE_FULL or more a whole
    edge).  Taken once per frame: the search and each settling vehicle read
    it (``edge_support``)."""
    p = image.astype(np.int16)
    step = np.abs(p[:, 1:] - p[:, :-1])
    steps = np.zeros(p.shape[:2], dtype=np.float32)
    steps[:, 1:] = np.maximum(np.maximum(step[..., 0], step[..., 1]), step[..., 2])
    return ndimage.maximum_filter1d(np.minimum(steps / EDGE_FULL, 1.0), 3, axis=1)


def edge_support(outlines, index, edges):
    """For each of outlines ``index``: the mean over its rows of the edge
    strength (``side_edges``) at its left and right ends, within a pixel
    of each (where the outline's sides lie on the image's edges, 1)."""
    spans = outlines.spans(index)
    rows, w = outlines.rows[spans], edges.shape[1]
    at = (edges[rows, np.minimum(outlines.left[spans], w - 1)]
          + edges[rows, np.minimum(outlines.right[spans], w - 1)]) / 2
    return outlines.sums(index, at) / np.maximum(outlines.start[index + 1] - outlines.start[index], 1)


def _box_counts(mask, boxes):
    """Pixels of ``mask`` inside each of ``boxes`` (x0, y0, x1, y1, whole
    pixels, ends exclusive)."""
    total = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    total[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
    x0, y0, x1, y1 = boxes.T
    return total[y1, x1] - total[y0, x1] - total[y1, x0] + total[y0, x0]


def _car_glass(outlines, index, dark, dark_inside):
    """For each of outlines ``index``, which hold ``dark_inside`` of the
    frame's dark pixels (``row_prefix`` ``dark``): where it is a car, the
    dark pixels its cabin's glass falls on beyond its dark share elsewhere
    (``glass_support``, at least 0); 0 for the other kinds.  A car with
    some is glassy: a grey car's shaded faces and its paint about as dark
    as the road look like a cast shadow or the road, but a cast shadow has
    no windows, so under such a car's outline the pixels that may be either
    count toward its fill (``MIN_FILL``)."""
    glass = np.zeros(len(index))
    cars = np.nonzero(outlines.kind[index] == sil.KINDS.index("car"))[0]
    if len(cars):
        glass[cars] = np.maximum(glass_support(outlines, index[cars], dark, dark_inside[cars]), 0)
    return glass


def glass_support(outlines, index, dark, dark_inside):
    """For car outlines ``index``, which hold ``dark_inside`` dark pixels
    (of ``row_prefix`` ``dark``): the dark pixels in their cabin's glass
    beyond what the outline's dark share elsewhere would put there (a black
    car's glass and paint are both dark: no support)."""
    in_glass, glass = outlines.glass(index, dark)
    rest = np.maximum(outlines.area[index] - glass, 1)
    return in_glass - glass * (dark_inside - in_glass) / rest


def settle(outlines, chosen, mask, unsure, dark=None, edges=None):
    """Each chosen vehicle moved, in turn and with the others kept where
    they are, to the outline of its kind (a bus's or truck's: of any long
    kind) near it that best explains the
    foreground the others leave: greedy choice prefers an outline that also
    covers a neighbour's pixels, which its neighbour explains anyway.  A
    car, given the frame's ``dark`` pixels, also where its glass is dark
    (``GLASS_WEIGHT``); a car or motorcycle, given the frame's ``edges``
    (``side_edges``), also where its sides lie on them (``SETTLE_EDGE``).
    Of two that settle on the same road, the first chosen is kept
    (``one_per_road``)."""
    cover = np.zeros(mask.shape, dtype=np.int16)
    pixels = [outlines.pixels(i) for i in chosen]
    for at in pixels:
        cover[at] += 1
    either, maybe = sil.row_prefix(mask | unsure), sil.row_prefix(unsure)
    dark = None if dark is None else sil.row_prefix(dark)
    settled = list(chosen)
    free = sil.row_prefix(mask & (cover == 0))

    def refresh_free(i):  # free, in outline i's rows, after the cover changed there
        _, y0, _, y1 = outlines.pixel_box[i]
        sil.refresh_rows(free, mask[y0:y1] & (cover[y0:y1] == 0), y0)

    for n, i in enumerate(settled):
        cover[pixels[n]] -= 1  # the others' cover
        refresh_free(i)
        small = outlines.kind[i] in sil.SMALL_KINDS
        # a bus or truck settles on the outline of any long kind that explains
        # it best: its kind was chosen before its place was
        near = outlines.neighbours(i, SETTLE_OVERLAP, None if small else sil.LONG_KINDS)
        glassy = dark is not None and sil.KINDS[outlines.kind[i]] == "car"
        explained, seen, shadowed, *inside = outlines.counts_each(
            (free, either, maybe) + ((dark,) if glassy else ()), near)
        road = outlines.area[near] - seen
        if not small:
            road = road + UNSURE_UNDER_LONG * shadowed
        score = explained - EXPLAIN_BACKGROUND * road
        if glassy:
            score = score + GLASS_WEIGHT * glass_support(outlines, near, dark, inside[0])
        if small and edges is not None:
            score = score + SETTLE_EDGE * outlines.area[near] * edge_support(outlines, near, edges)
        best = near[int(np.argmax(score))]
        cover[pixels[n] if best == i else outlines.pixels(best)] += 1
        refresh_free(best)
        settled[n] = best
    return one_per_road(outlines, settled)


def _footprints_overlap(length, width, across, depth, length2, width2, across2, depth2):
    """Do two vehicles' footprints (length and width in metres, at road
    points ``across``, ``depth``) overlap by more than ``ROAD_SIDE`` across
    and ``ROAD_SHARE`` of the shorter one's length along (numpy
    broadcasting)?"""
    side = (width + width2) / 2 - np.abs(across - across2)
    along = (length + length2) / 2 - np.abs(depth - depth2)
    return (side > ROAD_SIDE) & (along > ROAD_SHARE * np.minimum(length, length2))


def one_per_road(outlines, chosen):
    """Chosen outlines without those that stand on the road of one chosen
    before them (``_footprints_overlap``).  The search never chooses two
    such vehicles, but settling moves each on its own, drawn by glass and
    edges that another already explains: two settled onto one car counted
    it twice."""
    kind = outlines.kind[chosen]
    length, width = _LENGTH_M[kind], _WIDTH_M[kind]
    across, depth = outlines.across[chosen], outlines.depth[chosen]
    kept = []
    for n in range(len(chosen)):
        if not _footprints_overlap(length[n], width[n], across[n], depth[n], length[kept], width[kept],
                                   across[kept], depth[kept]).any():
            kept.append(n)
    return [chosen[n] for n in kept]


def visible(outlines, chosen, mask):
    """For each chosen outline, the foreground pixels it is the nearest
    vehicle at (what is seen of it)."""
    owner = np.full(mask.shape, -1, dtype=np.int32)
    for n in sorted(range(len(chosen)), key=lambda n: -outlines.depth[chosen[n]]):
        owner[outlines.pixels(chosen[n])] = n
    owner[~mask] = -1
    return owner
