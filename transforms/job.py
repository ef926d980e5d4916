"""The whole job as one composite: Read -> Decode/Tag -> Join -> Reduce -> Write."""

import apache_beam as beam

from transforms.join import AccountForImages, CatalogueImages, CountStatusesFn
from transforms.read import MatchImages, ReadManifest
from transforms.reduce import SummariseVehicles
from transforms.tag import TagImages
from transforms.write import WriteOutputs


class TagHighwayImages(beam.PTransform):
    """Tag every vehicle in a collection of highway images and write the
    per-vehicle, per-image and per-window tables, the dead letters and the
    summary to ``options.output``."""

    def __init__(self, options):
        super().__init__()
        self.options = options

    def expand(self, pbegin):
        o = self.options
        has_manifest = o.manifest is not None
        found = pbegin | "Read" >> MatchImages(o.input, skip_under=o.output)
        listed = (pbegin | "ReadManifest" >> ReadManifest(o.manifest) if has_manifest
                  else pbegin | "NoManifest" >> beam.Create([]))
        refs, unreadable = (found, listed) | "Catalogue" >> CatalogueImages(
            has_manifest, o.strict_manifest)
        tagged, failed, cameras = refs | "DecodeAndTag" >> TagImages(o)
        dead = (unreadable, failed) | "DeadLetters" >> beam.Flatten()
        statuses = (listed, found, tagged, dead) | "Join" >> AccountForImages(has_manifest)
        image_counts = statuses | "CountImages" >> beam.CombineGlobally(
            CountStatusesFn(has_manifest))
        stats = tagged | "Reduce" >> SummariseVehicles(o.window_minutes)
        return {**stats, "tagged": tagged, "statuses": statuses, "dead": dead,
                "image_counts": image_counts, "cameras": cameras} | "Write" >> WriteOutputs(
                    o.output, settings={"tagger": o.tagger, "window_minutes": o.window_minutes})
