"""VehicleStats: the mergeable statistics accumulator behind every aggregate.

One value holds counts, colour histograms, sums and the vehicles-per-image
histogram of any set of tagged images.  It is built to be reduced in parallel:
``add_image`` folds one image in, ``merge`` folds another accumulator in, and
both are exact (integers only: scores are kept in 1/10 000ths), so the result
does not depend on how the images were split into bundles or in which order
partial results were merged.
"""

from collections import Counter

from traffic.vocabulary import COLOURS, VEHICLE_TYPES

SCORE_UNITS = 10_000  # scores are summed as integers in 1/10 000ths


class VehicleStats:
    __slots__ = ("images", "by_type", "colours", "box_area", "score_units", "per_image")

    def __init__(self):
        self.images = 0
        self.by_type = Counter()  # type -> vehicles
        self.colours = {}  # type -> Counter(colour -> vehicles)
        self.box_area = Counter()  # type -> sum of box areas (px)
        self.score_units = Counter()  # type -> sum of scores (1/10 000ths)
        self.per_image = Counter()  # vehicles in an image -> images

    def add_image(self, vehicles):
        """Fold in one image, given its vehicles (objects with type, colour,
        score and box x0, y0, x1, y1)."""
        self.images += 1
        self.per_image[len(vehicles)] += 1
        for v in vehicles:
            self.by_type[v.type] += 1
            self.colours.setdefault(v.type, Counter())[v.colour] += 1
            self.box_area[v.type] += (v.x1 - v.x0) * (v.y1 - v.y0)
            self.score_units[v.type] += int(round(v.score * SCORE_UNITS))
        return self

    def merge(self, other):
        """Fold ``other`` into self (self is mutated, other is not)."""
        self.images += other.images
        self.per_image.update(other.per_image)
        self.by_type.update(other.by_type)
        for t, c in other.colours.items():
            self.colours.setdefault(t, Counter()).update(c)
        self.box_area.update(other.box_area)
        self.score_units.update(other.score_units)
        return self

    __iadd__ = merge

    def compact(self):
        """Drop zero counts (a Counter keeps keys that were updated to 0), so
        only what matters crosses the wire."""
        for c in (self.by_type, self.box_area, self.score_units, self.per_image,
                  *self.colours.values()):
            for k in [k for k, v in c.items() if not v]:
                del c[k]
        self.colours = {t: c for t, c in self.colours.items() if c}
        return self

    def __eq__(self, other):
        return isinstance(other, VehicleStats) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"VehicleStats(images={self.images}, by_type={dict(self.by_type)})"

    @property
    def total(self):
        return sum(self.by_type.values())

    def to_dict(self):
        """The JSON form used in summary.json (types and colours in
        vocabulary order, zero counts of colours left out)."""
        types = list(VEHICLE_TYPES) + sorted(set(self.by_type) - set(VEHICLE_TYPES))
        total = self.total
        return {
            "total": total,
            "by_type": {t: self.by_type.get(t, 0) for t in types},
            "colours": {t: _ordered(self.colours.get(t, Counter())) for t in types},
            "sums": {
                "images": self.images,
                "vehicles": total,
                "box_area_px": {t: self.box_area.get(t, 0) for t in types},
            },
            "per_image": {
                "histogram": {str(n): self.per_image[n] for n in sorted(self.per_image)},
                "mean": round(total / self.images, 4) if self.images else 0.0,
                "max": max(self.per_image) if self.per_image else 0,
            },
            "mean_score": {
                t: round(self.score_units[t] / SCORE_UNITS / self.by_type[t], 4)
                for t in types if self.by_type.get(t)
            },
        }


def _ordered(counter):
    names = list(COLOURS) + sorted(set(counter) - set(COLOURS))
    return {c: counter[c] for c in names if counter.get(c)}
