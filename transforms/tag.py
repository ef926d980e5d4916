"""Decode and Tag: from image URIs to TaggedImage records and dead letters.

Each image is read and decoded once, in the same DoFn that tags it, so decoded
pixels never leave the worker that decoded them.  The background tagger needs
one coordination step first: per camera, a fixed-size sample of frames is
chosen once all the camera's frames are known (a combine: a barrier per
camera), only those are decoded into small working-size copies, and the
estimated empty road reaches the tag step as a side input.  With
``--cameras-from``, cameras an earlier run learned are read from its
``DIR/cameras/`` instead (``ReadCameras``).
"""

import apache_beam as beam
from apache_beam.metrics import Metrics

from traffic import background as bg
from traffic import perspective
from traffic.perspective import evidence
from traffic.calibration import camera_geometry
from traffic.detector import model_spec
from traffic.imaging import DEFAULT_MAX_PIXELS, UnreadableImage, decode_image
from traffic.records import camera_from_row
from transforms.detect import DetectVehicles, read_model_file
from transforms.outcomes import ToDeadLetter, read_bytes, tagged_image
from transforms.write import PART, join_path
from transforms.progress import CountsProgress


class DecodeAndTagWithBackground(CountsProgress, beam.DoFn):
    """ImageRef -> TaggedImage: read the file once, decode it at the
    tagger's working scale (JPEG draft mode) and subtract the camera's empty
    road: where the camera looks along the road, with the camera model
    learned for it, on the frame decoded once more at full size
    (``traffic.perspective``), else as a camera straight above the road.

    Decoding and tagging are one DoFn on purpose: the tag step has a side
    input, and runners do not fuse a producer into a consumer with side
    inputs, so separate steps would ship every decoded frame between stages.
    """

    def __init__(self, pixels_per_metre, max_pixels=DEFAULT_MAX_PIXELS, progress_dir=None,
                 search_width=perspective.SEARCH_MAX_WIDTH):
        self.pixels_per_metre = pixels_per_metre
        self.search_width = search_width
        self.max_pixels = max_pixels
        self.progress_dir = progress_dir
        self.decoded = Metrics.counter("images", "decoded")

    def setup(self):
        super().setup()
        self._taggers = {}  # camera -> its frame tagger, built once per worker

    def process(self, ref, backgrounds, cameras):
        self.count_progress()
        data = read_bytes(ref.image)
        d = decode_image(data, max_pixels=self.max_pixels, width=bg.WORK_WIDTH)
        self.decoded.inc()
        ref = ref._replace(timestamp=ref.timestamp or d.taken_at)
        if ref.camera not in self._taggers:
            road = backgrounds.get(ref.camera)
            if road is None:
                raise ValueError(f"no background for camera {ref.camera!r}: "
                                 "none of its sampled frames could be decoded")
            self._taggers[ref.camera] = perspective.frame_tagger(
                cameras.get(ref.camera), road, self.pixels_per_metre,
                search_width=self.search_width)
        # the perspective tagger searches the frame at full size: a far car is
        # a few draft pixels wide, most of them shared with the road
        found = self._taggers[ref.camera](
            d.pixels, d.scale, lambda: decode_image(data, max_pixels=self.max_pixels).pixels)
        yield tagged_image(ref, d.width, d.height, found)


class _DecodeSample(beam.DoFn):
    """(camera, (rank, ImageRef)) -> (camera, (rank, image, working-size
    pixels, full-size pixels per working pixel))."""

    def __init__(self, width, max_pixels):
        self.width = width
        self.max_pixels = max_pixels
        self.skipped = Metrics.counter("background", "unreadable_samples")

    def process(self, element):
        camera, (rank, ref) = element
        try:
            d = decode_image(read_bytes(ref.image), max_pixels=self.max_pixels, width=self.width)
        except (OSError, UnreadableImage):
            # Not a dead letter here: the image fails (and is recorded) in
            # the main decode step; it just cannot be part of the sample.
            self.skipped.inc()
            return
        yield camera, (rank, ref.image, d.pixels, round(d.scale))


def _empty_road(camera, samples, size):
    """(camera, (empty road, frames it was made of, isolated vehicle blobs of
    those frames: what the camera's focal length is learned from, full-size
    pixels per pixel of the road))."""
    road, sampled, blobs = evidence.empty_road_and_blobs(
        [(rank, pixels) for rank, _, pixels, _ in samples], size)
    return camera, (road, sampled, blobs, bg.road_reduce([s[2:] for s in samples], road))


class EstimateBackgrounds(beam.PTransform):
    """ImageRefs -> (camera, (empty-road image, frames it was made of, the
    isolated vehicle blobs of those frames, full-size pixels per pixel of
    the road)) per camera.

    Twice ``samples`` candidates per camera are decoded (small, at working
    scale: about ``width`` wide), so that a few unreadable files, or a frozen camera's repeated
    frames, among them do not change which frames make the estimate; the
    decoded candidates meet per camera (a Top combine, lifted before the
    shuffle) and the best-ranked ``samples`` distinct ones make the road."""

    def __init__(self, samples=bg.DEFAULT_SAMPLES, width=bg.WORK_WIDTH,
                 max_pixels=DEFAULT_MAX_PIXELS):
        super().__init__()
        self.samples, self.width, self.max_pixels = samples, width, max_pixels

    def expand(self, refs):
        size = self.samples
        return (refs
                | "RankByCamera" >> beam.Map(
                    lambda r: (r.camera, (bg.sample_rank(r.camera, r.image), r)))
                | "ChooseCandidates" >> beam.combiners.Top.SmallestPerKey(
                    2 * self.samples, key=lambda s: (s[0], s[1].image))
                | "OnePerSample" >> beam.FlatMap(lambda kv: [(kv[0], s) for s in kv[1]])
                | "Spread" >> beam.Reshuffle()
                | "DecodeSample" >> beam.ParDo(_DecodeSample(self.width, self.max_pixels))
                | "DecodedPerCamera" >> beam.combiners.Top.SmallestPerKey(
                    2 * size, key=lambda s: (s[0], s[1]))
                | "EmptyRoad" >> beam.MapTuple(lambda camera, samples: _empty_road(
                    camera, samples, size)))


class LearnGeometry(beam.PTransform):
    """(camera, (empty road, frames it was made of, their isolated blobs,
    full-size pixels per pixel of the road)) ->
    CameraGeometry: what each camera's own frames teach about its geometry
    (vanishing point, road direction, scale across the road from the empty
    road; focal length and height from the blobs), after the per-camera
    empty-road barrier; never fails (a camera it cannot read has an empty
    record)."""

    def __init__(self, pixels_per_metre=None):
        super().__init__()
        self.pixels_per_metre = pixels_per_metre

    def expand(self, roads):
        hint = self.pixels_per_metre
        return roads | "Calibrate" >> beam.MapTuple(
            lambda camera, road: camera_geometry(camera, road[0], road[1], road[3], road[2], hint))


def cameras_pattern(folder):
    """The Parquet shards of a run's ``DIR/cameras/``, as ``WriteOutputs``
    names them."""
    return join_path(folder, "cameras", f"{PART}*.parquet")


class ReadCameras(beam.PTransform):
    """An earlier run's ``DIR/cameras/`` -> CameraGeometry records that hold
    an empty road (a camera that run could not read is learned again)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def expand(self, pipeline):
        return (pipeline
                | "ReadParquet" >> beam.io.ReadFromParquet(cameras_pattern(self.folder))
                | "ToRecords" >> beam.Map(camera_from_row)
                | "WithRoad" >> beam.Filter(lambda c: c.empty_road_jpeg is not None))


def _stored_road(camera):
    """(camera, its empty road at the working size) of a stored record."""
    return camera.camera, decode_image(camera.empty_road_jpeg).pixels


class TagImages(beam.PTransform):
    """ImageRefs -> (TaggedImage records, DeadLetter records, CameraGeometry
    records: what the background tagger learned about each camera).

    Decode and tag with Beam's exception handling: an image that cannot be
    read, decoded or tagged becomes a dead letter (stage read, decode or tag,
    from the kind of error) and the run goes on.
    """

    def __init__(self, options):
        super().__init__()
        self.options = options

    def expand(self, refs):
        o = self.options
        if o.tagger == "detector":
            spec = model_spec(o.model, o.classes, read=read_model_file)
            tagged, dead = refs | "Detector" >> DetectVehicles(
                o.model, spec, o.min_score, o.nms_iou, o.batch_size, o.onnx_threads,
                o.max_image_pixels, o.progress_dir)
            return tagged, dead, refs.pipeline | "NoCameraGeometry" >> beam.Create([])
        stored, to_learn = None, refs
        if o.cameras_from:  # what an earlier run learned, used as it is
            stored = refs.pipeline | "ReadCameras" >> ReadCameras(o.cameras_from)
            known = stored | "StoredNames" >> beam.Map(lambda c: (c.camera, True))
            to_learn = refs | "NotStored" >> beam.Filter(
                lambda r, known: r.camera not in known, beam.pvalue.AsDict(known))
        roads = to_learn | "EstimateBackgrounds" >> EstimateBackgrounds(
            o.background_samples, bg.WORK_WIDTH, o.max_image_pixels)
        backgrounds = roads | "RoadOnly" >> beam.MapTuple(lambda camera, road: (camera, road[0]))
        cameras = roads | "LearnGeometry" >> LearnGeometry(o.pixels_per_metre)
        if stored is not None:
            backgrounds = ((backgrounds, stored | "StoredRoad" >> beam.Map(_stored_road))
                           | "AllRoads" >> beam.Flatten())
            cameras = (cameras, stored) | "AllCameras" >> beam.Flatten()
        # the tagger needs the learned figures, not the picture of the road
        by_camera = cameras | "KeyByCamera" >> beam.Map(
            lambda c: (c.camera, c._replace(empty_road_jpeg=None)))
        tagged, bad = (
            refs | "DecodeAndTag" >> beam.ParDo(
                DecodeAndTagWithBackground(o.pixels_per_metre, o.max_image_pixels,
                                           o.progress_dir, o.search_width),
                beam.pvalue.AsDict(backgrounds), beam.pvalue.AsDict(by_camera))
            .with_exception_handling())
        return tagged, bad | "DeadLetters" >> beam.ParDo(ToDeadLetter("tag")), cameras
