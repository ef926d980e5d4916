"""The job's output folder: its lock, what a re-run clears, the run's log and
run.json."""

import glob
import json
import os
import shutil
import socket
import sys
import tempfile
import time

from apache_beam.io.filesystems import FileSystems

from pipelines.report_files import REPORT, RUN_INFO, RUN_LOG
from pipelines.tag_images.cli import PROG, UsageError
from traffic.paths import has_scheme
from transforms.write import OUTPUT_FOLDERS, PART, SUMMARY, join_path, write_atomically


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


def run_log_path(output):
    """The run's log (Beam's and the workers' messages, tracebacks of a failed
    run): DIR/run.log, or a temporary file when DIR is not local."""
    if has_scheme(output):
        return os.path.join(tempfile.mkdtemp(prefix="tag-images-"), RUN_LOG)
    return os.path.join(output, RUN_LOG)


def write_run_info(output, info):
    write_atomically(join_path(output, RUN_INFO), json.dumps(info, indent=2) + "\n")
