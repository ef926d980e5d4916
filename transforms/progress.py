"""Progress of a local run, while it runs.

Beam's DirectRunner only hands back metrics when the job is over, so the tag
steps also count what they finish into a small file per worker process in a
progress folder (at most one write a second), and the launcher sums those
files every few seconds.  Only for runners on this machine; a no-op when no
folder is set.
"""

import os
import threading
import time
import uuid

WRITE_EVERY_S = 1.0


class ProgressCounter:
    """Per-process counter of images done, flushed to ``folder``."""

    _lock = threading.Lock()
    _by_folder = {}

    def __init__(self, folder):
        self.folder = folder
        self.path = os.path.join(folder, f"{os.getpid()}-{uuid.uuid4().hex[:8]}.count")
        self.done = 0
        self.flushed_at = 0.0

    @classmethod
    def for_folder(cls, folder):
        """One counter per folder per process, shared by DoFn instances."""
        if not folder:
            return None
        with cls._lock:
            counter = cls._by_folder.get(folder)
            if counter is None or counter.path.split(os.sep)[-1].split("-")[0] != str(os.getpid()):
                counter = cls._by_folder[folder] = cls(folder)
            return counter

    def add(self, n=1):
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self.flushed_at >= WRITE_EVERY_S:
                self._flush(now)

    def flush(self):
        with self._lock:
            self._flush(time.monotonic())

    def _flush(self, now):
        self.flushed_at = now
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(str(self.done))
            os.replace(tmp, self.path)
        except OSError:
            pass  # progress is best effort; the run itself must not suffer


class CountsProgress:
    """DoFn mixin: count each processed element into the run's progress
    folder (``self.progress_dir``; None turns it off)."""

    progress_dir = None

    def setup(self):
        self.progress = ProgressCounter.for_folder(self.progress_dir)

    def finish_bundle(self):
        if self.progress:
            self.progress.flush()

    def count_progress(self):
        if self.progress:
            self.progress.add()


def images_done(folder):
    total = 0
    for name in os.listdir(folder):
        if name.endswith(".count"):
            try:
                with open(os.path.join(folder, name)) as f:
                    total += int(f.read() or 0)
            except (OSError, ValueError):
                continue
    return total


def format_progress(done, elapsed, total=None, first=None):
    """The progress line.  ``first``: (images done, seconds elapsed) when
    images were first seen done; the ETA then comes from the rate since, and
    is left out until there is one: before the first image the run reads the
    inputs and learns each camera (its empty road, its geometry and, in each
    worker, its vehicles' outlines), which would make an early ETA far too
    long."""
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"progress: {done} images done, {rate:.1f} images/s"
    if total:
        line += f", {min(100.0, 100.0 * done / total):.0f} % of {total}"
        if first is not None:
            recent = done - first[0]
            rate = recent / (elapsed - first[1]) if recent > 0 and elapsed > first[1] else 0.0
        if rate > 0 and done < total:
            line += f", ETA {int((total - done) / rate)} s"
    return line


class ProgressPrinter(threading.Thread):
    """Prints a progress line every ``every`` seconds until stopped."""

    def __init__(self, folder, total=None, every=10.0, out=None):
        super().__init__(daemon=True)
        self.folder, self.total, self.every = folder, total, every
        self.out = out
        self.started = time.monotonic()
        self.stopped = threading.Event()

    def run(self):
        first = None
        while not self.stopped.wait(self.every):
            done, elapsed = images_done(self.folder), time.monotonic() - self.started
            if first is None and done > 0:
                first = (done, elapsed)
            print(format_progress(done, elapsed, self.total, first), file=self.out, flush=True)

    def stop(self):
        self.stopped.set()
