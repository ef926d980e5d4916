"""Reduce: parallel partial statistics merged into one, per camera, per time
window and overall.

``VehicleStatsFn`` folds TaggedImage records into a ``VehicleStats``
accumulator; runners may lift it before the shuffle, split its input into any
bundles and merge partial accumulators in any order: the result is the same.
The overall figures are not a second pass over the records: they merge the
per-camera accumulators (``MergeStatsFn``).
"""

from collections import Counter

import apache_beam as beam
from apache_beam.metrics import Metrics

from traffic.records import WindowCount, window_of
from traffic.stats import VehicleStats
from traffic.vocabulary import VEHICLE_TYPES


class VehicleStatsFn(beam.CombineFn):
    """TaggedImage records -> VehicleStats."""

    def create_accumulator(self):
        return VehicleStats()

    def add_input(self, acc, tagged):
        return acc.add_image(tagged.vehicles)

    def merge_accumulators(self, accs):
        accs = iter(accs)
        first = next(accs)  # Beam allows mutating the first accumulator only
        for acc in accs:
            first.merge(acc)
        return first

    def compact(self, acc):
        return acc.compact()

    def extract_output(self, acc):
        return acc


class MergeStatsFn(VehicleStatsFn):
    """VehicleStats partial results -> one VehicleStats."""

    def add_input(self, acc, stats):
        return acc.merge(stats)


class CountInWindowFn(beam.CombineFn):
    """TaggedImage records -> (images, Counter of vehicles by type)."""

    def create_accumulator(self):
        return [0, Counter()]

    def add_input(self, acc, tagged):
        acc[0] += 1
        acc[1].update(v.type for v in tagged.vehicles)
        return acc

    def merge_accumulators(self, accs):
        accs = iter(accs)
        first = next(accs)
        for images, by_type in accs:
            first[0] += images
            first[1].update(by_type)
        return first

    def extract_output(self, acc):
        return acc


def _window_count(element):
    (camera, start, end), (images, by_type) = element
    types = list(VEHICLE_TYPES) + sorted(set(by_type) - set(VEHICLE_TYPES))
    return WindowCount(camera=camera, start=start, end=end, images=images,
                       by_type={t: by_type.get(t, 0) for t in types})


class CountPerWindow(beam.PTransform):
    """TaggedImage records -> WindowCount per camera and fixed event-time
    window (images without a timestamp are counted and left out).

    The window is part of the key, computed from each image's own time,
    rather than Beam windowing: in this batch job the records reach this step
    from joins in the global window, and giving them earlier event times
    there would make them late data on runners with real watermarks (Prism,
    Flink), which drop it.  Keyed windows are the same on every runner, keep
    every grouping in Beam's default windowing (its fast path on the local
    runner) and still let the runner lift the CombineFn."""

    def __init__(self, window_minutes):
        super().__init__()
        self.minutes = window_minutes
        self.untimed = Metrics.counter("windows", "images_without_timestamp")

    def expand(self, tagged):
        untimed, minutes = self.untimed, self.minutes

        def by_camera_and_window(t):
            if t.timestamp is None:
                untimed.inc()
                return
            yield (t.camera, *window_of(t.timestamp, minutes)), t

        return (tagged
                | "ByCameraAndWindow" >> beam.FlatMap(by_camera_and_window)
                | "CountPerWindow" >> beam.CombinePerKey(CountInWindowFn())
                | "AsWindowCounts" >> beam.Map(_window_count))


class SummariseVehicles(beam.PTransform):
    """TaggedImage records -> {"per_camera": (camera, VehicleStats),
    "overall": VehicleStats, "windows": WindowCount}."""

    def __init__(self, window_minutes=15):
        super().__init__()
        self.window_minutes = window_minutes

    def expand(self, tagged):
        per_camera = (tagged
                      | "ByCamera" >> beam.Map(lambda t: (t.camera, t))
                      | "ReducePerCamera" >> beam.CombinePerKey(VehicleStatsFn()))
        overall = (per_camera
                   | "CameraPartials" >> beam.Values()
                   | "MergeOverall" >> beam.CombineGlobally(MergeStatsFn()))
        windows = tagged | "Windows" >> CountPerWindow(self.window_minutes)
        return {"per_camera": per_camera, "overall": overall, "windows": windows}
