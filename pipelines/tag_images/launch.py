"""Run the job: validate, lock, run and wait, then run.json, the report and
the console summary."""

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.options import TagImagesOptions
from pipelines.outputs import read_summary
from pipelines.report_files import REPORT, RUN_INFO
from pipelines.tag_images.cli import PROG, UsageError, check_unknown_args, job_parser, validate
from pipelines.tag_images.output_folder import (clear_previous_outputs, lock_output,
                                                run_log_path, write_run_info)
from pipelines.tag_images.runners import (LOCAL_RUNNERS, use_local_flink_job_server,
                                          use_local_prism)
from pipelines.tag_images.workers import (DIED, WorkerDied, WorkerWatch, end_workers,
                                          failure_reason, logs_to_file)
from traffic.paths import has_scheme
from traffic.vocabulary import VEHICLE_TYPES
from transforms.job import TagHighwayImages
from transforms.progress import ProgressPrinter
from transforms.write import SUMMARY, join_path


def format_summary(summary):
    im = summary["images"]
    lines = ["images: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in im.items()),
             f"{'camera':<12}{'images':>8}{'vehicles':>10}"
             + "".join(f"{t:>12}" for t in VEHICLE_TYPES)]
    rows = [(c, s["images"], s["vehicles"]) for c, s in summary["cameras"].items()]
    rows.append(("ALL", summary["vehicles"]["sums"]["images"], summary["vehicles"]))
    for name, images, v in rows:
        lines.append(f"{name:<12}{images:>8}{v['total']:>10}"
                     + "".join(f"{v['by_type'].get(t, 0):>12}" for t in VEHICLE_TYPES))
    colours = summary["vehicles"]["colours"]
    for t in VEHICLE_TYPES:
        top = sorted(colours.get(t, {}).items(), key=lambda kv: -kv[1])[:4]
        if top:
            lines.append(f"{t} colours: " + ", ".join(f"{c} {n}" for c, n in top))
    return "\n".join(lines)


def counter_totals(result):
    """{namespace.name: value} of the run's Beam counters, or None where the
    runner reports none."""
    try:
        counters = result.metrics().query()["counters"]
    except Exception:  # noqa: BLE001 - not every runner reports metrics
        return None
    totals = {}
    for c in counters:
        key = f"{c.key.metric.namespace}.{c.key.metric.name}"
        if key.startswith("beam.metric"):  # portable runners' system metrics
            continue
        value = c.committed if c.committed is not None else c.attempted
        totals[key] = totals.get(key, 0) + (value or 0)
    return dict(sorted(totals.items()))


def format_counters(totals):
    if totals is None:
        return "  (this runner reports no metrics)"
    return "\n".join(f"  {k:<40}{v:>10}" for k, v in totals.items())


def run_and_wait(pipeline, watch=None):
    """Run and wait; SIGINT or SIGTERM cancel the runner's job first (a Flink
    job would otherwise go on without its launcher)."""
    with watch or contextlib.nullcontext():  # before run(): local runners work inside it
        result = pipeline.run()

        def cancel(signum, frame):
            try:
                result.cancel()
            except Exception:  # noqa: BLE001 - not every runner can cancel
                pass
            raise KeyboardInterrupt(f"stopped by signal {signum}")

        previous = {s: signal.signal(s, cancel) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            result.wait_until_finish()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    return result


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        job_parser().print_help()
        return 0
    if not any(a.startswith("--default_sdk_harness_log_level") for a in argv):
        # worker processes (multi_processing, portable runners) log every
        # connection at INFO; keep their errors only unless asked otherwise
        argv.append("--default_sdk_harness_log_level=ERROR")
    options = PipelineOptions(argv)
    opts = options.view_as(TagImagesOptions)
    try:
        check_unknown_args(argv)
        matched = validate(opts)
        use_local_prism(options)
        use_local_flink_job_server(options, argv)
        lock = lock_output(opts.output)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    try:
        return run_job(options, opts, matched)
    finally:
        if lock:
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock)


def run_job(options, opts, matched):
    """Run the validated job into its (locked) output folder; the exit status."""
    clear_previous_outputs(opts.output)
    runner = options.view_as(StandardOptions).runner
    printer = None
    if runner in LOCAL_RUNNERS and not opts.quiet:
        opts.progress_dir = tempfile.mkdtemp(prefix="tag-images-progress-")
        printer = ProgressPrinter(opts.progress_dir, total=matched, every=opts.progress_every)
    started = time.time()
    log_path = run_log_path(opts.output)
    watch = WorkerWatch(log_path) if runner in LOCAL_RUNNERS and not has_scheme(log_path) else None
    try:
        with logs_to_file(log_path):
            pipeline = beam.Pipeline(options=options)
            _ = pipeline | "TagHighwayImages" >> TagHighwayImages(opts)
            if printer:
                printer.start()
            try:
                result = run_and_wait(pipeline, watch)
            except BaseException as e:
                if watch and (watch.died or failure_reason(e, log_path).startswith(DIED)):
                    end_workers()  # their last words still go to the log
                raise
    except (Exception, KeyboardInterrupt, WorkerDied) as e:  # noqa: BLE001 - any failure ends here, in one line
        stopped = isinstance(e, KeyboardInterrupt)
        # a failed run has no summary, even where the pipeline got as far as writing it
        with contextlib.suppress(Exception):
            FileSystems.delete([join_path(opts.output, SUMMARY)])
        print(f"{PROG}: error: the run {'was stopped' if stopped else 'failed'} "
              f"({failure_reason(e, log_path)}); nothing was summarised and no summary.json "
              f"was written; details in {log_path}; a re-run starts clean", file=sys.stderr)
        return 130 if stopped else 1
    finally:
        if printer:
            printer.stop()
            shutil.rmtree(opts.progress_dir, ignore_errors=True)
    seconds = time.time() - started
    summary = read_summary(opts.output)
    totals = counter_totals(result)
    try:
        write_run_info(opts.output, {
            "runner": runner or "DirectRunner", "tagger": opts.tagger, "model": opts.model,
            "search_width": opts.search_width if opts.tagger == "background" else None,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "seconds": round(seconds, 3),
            "images_per_s": round(summary["images"]["inputs"] / seconds, 3) if seconds else None,
            "counters": totals})
        if not opts.no_report and not has_scheme(opts.output):
            from pipelines.report import build_report  # matplotlib: only when a report is made
            build_report(opts.output)
    except (OSError, IOError) as e:  # a full or vanished output folder
        print(f"{PROG}: error: the run is complete (summary.json and the tables are in "
              f"{opts.output}), but {RUN_INFO} or {REPORT} could not be written: "
              f"{getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 1
    if not opts.quiet:
        print(format_summary(summary))
        print("counters:\n" + format_counters(totals))
        print(f"outputs in {opts.output}" + ("" if opts.no_report else
                                             f" (open {os.path.join(opts.output, REPORT)})"))
    images = summary["images"]
    if opts.max_failed_fraction is not None and images["inputs"]:
        fraction = images["failed"] / images["inputs"]
        if fraction > opts.max_failed_fraction:
            print(f"{PROG}: error: {images['failed']} of {images['inputs']} images failed "
                  f"({fraction:.1%}), more than --max-failed-fraction "
                  f"{opts.max_failed_fraction:g}", file=sys.stderr)
            return 1
    return 0
