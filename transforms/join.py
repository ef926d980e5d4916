"""Join: barrier synchronisation over the whole run.

``CatalogueImages`` joins the files found with the manifest (when there is
one), so each image is processed once, with its camera and time, and every
listed image that is not there is known.  ``AccountForImages`` joins, per
image, what was expected, what was found and what tagging made of it, and
gives every image exactly one status: nothing reaches the summary before
every image of the run is accounted for.
"""

import os

import apache_beam as beam
from apache_beam.metrics import Metrics

from traffic.records import (FAILED, MISSING, TAGGED, UNEXPECTED, DeadLetter,
                             ImageRef, ImageStatus)
from transforms.read import camera_from_path

LISTED, FOUND, DONE, DEAD = "listed", "found", "tagged", "failed"
DUPLICATES = "duplicate_manifest_rows"
DUPLICATE_FILES = "duplicate_matches"


def probe_unreadable(image):
    """Why a listed image that the file match did not return cannot be read,
    or None if it is simply not there.  (Local paths only: a file match skips
    directories and broken links.)"""
    if "://" in image:
        return None
    if os.path.isdir(image):
        return "is a directory, not an image file"
    if os.path.islink(image) and not os.path.exists(image):
        return f"broken symbolic link (to {os.readlink(image)})"
    if os.path.exists(image) and not os.access(image, os.R_OK):
        return "permission denied"
    return None


class _Catalogue(beam.DoFn):
    UNREADABLE = "unreadable"

    def __init__(self, has_manifest, strict):
        self.has_manifest = has_manifest
        self.strict = strict
        self.duplicate_rows = Metrics.counter("images", "manifest_duplicate_rows")
        self.duplicate_matches = Metrics.counter("images", "duplicate_matches")
        self.unexpected = Metrics.counter("images", "unexpected")
        self.missing = Metrics.counter("images", "missing")

    def process(self, element):
        image, grouped = element
        listed, found = list(grouped[LISTED]), list(grouped[FOUND])
        if len(listed) > 1:
            self.duplicate_rows.inc(len(listed) - 1)
        if len(found) > 1:
            self.duplicate_matches.inc(len(found) - 1)
        if found:
            if self.has_manifest and not listed:
                self.unexpected.inc()
                if self.strict:
                    return
            ref = listed[0] if listed else ImageRef(image, camera_from_path(image), None)
            yield ref
        elif listed:
            reason = probe_unreadable(image)
            if reason:
                yield beam.pvalue.TaggedOutput(
                    self.UNREADABLE, DeadLetter(image=image, stage="read", error=reason))
            else:
                self.missing.inc()


class CatalogueImages(beam.PTransform):
    """Join the files found with the manifest's rows, per image.

    Input: ((image, size) found, ImageRef listed); with no manifest, ``listed``
    is empty and ``has_manifest`` False.

    Returns (refs to process, dead letters for listed paths that are not
    readable files).
    """

    def __init__(self, has_manifest=True, strict_manifest=False):
        super().__init__()
        self.has_manifest = has_manifest
        self.strict = strict_manifest

    def expand(self, inputs):
        found, listed = inputs
        refs, unreadable = (
            {LISTED: listed | "KeyListed" >> beam.Map(lambda r: (r.image, r)),
             FOUND: found}
            | "JoinFoundWithListed" >> beam.CoGroupByKey()
            | "Catalogue" >> beam.ParDo(_Catalogue(self.has_manifest, self.strict)).with_outputs(
                _Catalogue.UNREADABLE, main="refs"))
        return refs, unreadable


class _Account(beam.DoFn):
    def __init__(self, has_manifest):
        self.has_manifest = has_manifest

    def process(self, element):
        image, g = element
        listed, found = list(g[LISTED]), list(g[FOUND])
        done, dead = list(g[DONE]), list(g[DEAD])
        ref = listed[0] if listed else None
        is_listed = bool(listed) or not self.has_manifest
        camera = ref.camera if ref else camera_from_path(image)
        timestamp = ref.timestamp if ref else None
        counts = len(listed), len(found)
        if done:
            t = done[0]
            yield ImageStatus(image, t.camera, t.timestamp, t.width, t.height,
                              len(t.vehicles), TAGGED, is_listed, None, None, *counts)
        elif dead:
            d = dead[0]
            yield ImageStatus(image, camera, timestamp, None, None, None, FAILED,
                              is_listed, d.stage, d.error, *counts)
        elif found:  # found, not listed, skipped by --strict-manifest
            yield ImageStatus(image, camera, timestamp, None, None, None, UNEXPECTED,
                              False, None, "not listed in the manifest (--strict-manifest)",
                              *counts)
        else:
            yield ImageStatus(image, camera, timestamp, None, None, None, MISSING,
                              True, "read", "listed in the manifest but not found", *counts)


class AccountForImages(beam.PTransform):
    """The barrier: one ImageStatus per image, joined over everything known
    about it (listed, found, tagged, failed)."""

    def __init__(self, has_manifest):
        super().__init__()
        self.has_manifest = has_manifest

    def expand(self, inputs):
        listed, found, tagged, dead = inputs
        return (
            {LISTED: listed | "KeyListed" >> beam.Map(lambda r: (r.image, r)),
             FOUND: found,
             DONE: tagged | "KeyTagged" >> beam.Map(lambda t: (t.image, t)),
             DEAD: dead | "KeyFailed" >> beam.Map(lambda d: (d.image, d))}
            | "JoinPerImage" >> beam.CoGroupByKey()
            | "OneStatusPerImage" >> beam.ParDo(_Account(self.has_manifest)))


class CountStatusesFn(beam.CombineFn):
    """images.* figures of the summary, from the ImageStatus records."""

    def __init__(self, has_manifest):
        self.has_manifest = has_manifest

    def create_accumulator(self):
        return {}

    def add_input(self, acc, status):
        keys = [status.status]
        if not status.listed:
            keys.append(UNEXPECTED)  # processed or skipped, never listed
        elif self.has_manifest:
            keys.append("expected")
        for key in set(keys):
            acc[key] = acc.get(key, 0) + 1
        # listed or matched more than once: reported, counted once
        for key, times in ((DUPLICATES, status.manifest_rows), (DUPLICATE_FILES, status.matches)):
            if times > 1:
                acc[key] = acc.get(key, 0) + times - 1
        return acc

    def merge_accumulators(self, accs):
        accs = iter(accs)
        first = next(accs)
        for a in accs:
            for k, v in a.items():
                first[k] = first.get(k, 0) + v
        return first

    def extract_output(self, acc):
        tagged, failed = acc.get(TAGGED, 0), acc.get(FAILED, 0)
        out = {"inputs": tagged + failed, "tagged": tagged, "failed": failed,
               "missing": acc.get(MISSING, 0), "unexpected": acc.get(UNEXPECTED, 0),
               DUPLICATE_FILES: acc.get(DUPLICATE_FILES, 0)}
        if self.has_manifest:
            out["expected"] = acc.get("expected", 0)
            out[DUPLICATES] = acc.get(DUPLICATES, 0)
        return out
