"""Local runs with worker processes: the run's log file, and what happens
when a worker process dies (the watchdog, ending the others, the one line
that says so)."""

import contextlib
import logging
import os
import re
import signal
import sys
import threading
import time


from pipelines.tag_images.cli import PROG


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
    saved_stderr, console = os.dup(2), sys.stderr
    log_file = open(path, "ab", buffering=0)
    os.dup2(log_file.fileno(), 2)
    # Python's own writes to stderr get a stream of their own, so what cannot
    # be written (a full disk) is dropped with it, not left in the console
    # stream's buffer to reach the console later
    sys.stderr = open(path, "a", encoding="utf-8", errors="backslashreplace", buffering=1)
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
    finally:  # every step, even where the disk is full and nothing can be flushed
        root.removeHandler(handler)
        with contextlib.suppress(OSError, ValueError):
            handler.close()
        for h, level in consoles:
            h.setLevel(level)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.close()
        sys.stderr = console
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        with contextlib.suppress(OSError):
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
