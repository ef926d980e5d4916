"""Hostile file systems: a full or read-only output folder, files and folders
the job may not read, symbolic-link loops, directories named like images,
and --input patterns of which one matches nothing.

The full and read-only cases mount a small tmpfs in a private mount
namespace (``unshare --mount``), and the unreadable cases run the job as root
without the capabilities that let root read anything (``setpriv``); where the
machine allows neither, those tests are skipped."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

from pipelines import tag_images
from pipelines.outputs import read_dead_letters, read_summary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _can(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


CAN_MOUNT = (os.geteuid() == 0 and shutil.which("unshare") is not None
             and _can(["unshare", "--mount", "--propagation", "private", "true"]))
CAN_DROP_READ = (os.geteuid() == 0 and shutil.which("setpriv") is not None
                 and _can(["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "true"]))
needs_mount = pytest.mark.skipif(not CAN_MOUNT, reason="needs root and unshare --mount")
needs_setpriv = pytest.mark.skipif(not CAN_DROP_READ, reason="needs root and setpriv")


def _job(*args):
    return [sys.executable, "-m", "pipelines.tag_images", *args]


def _in_tmpfs(mount, size, job, read_only=False):
    """Run ``job`` with a fresh tmpfs of ``size`` at ``mount`` (gone when it
    ends); returns (exit status, stderr, listing of what it left there)."""
    options = f"size={size}" + (",ro" if read_only else "")
    script = ('mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 2; "$@"; status=$?; '
              'echo "=== files"; find "$MOUNT" -type f | sort; exit $status')
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                           "sh", options, str(mount), *job], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "MOUNT": str(mount)})
    assert done.returncode != 99, done.stderr
    out, _, files = done.stdout.partition("=== files\n")
    return done.returncode, done.stderr, files.split()


@needs_mount
def test_a_full_output_file_system_ends_in_one_line_and_leaves_no_partial_file(
        small_sample, tmp_path):
    """From a file system too small for the tables to one too small only for
    the report: every run either completes or ends with one line and exit 1;
    a summary is there only when the run says the tables are complete, and
    no temporary file is left behind."""
    mount = tmp_path / "small"
    mount.mkdir()
    out = mount / "out"
    job = _job("--input", os.path.join(small_sample, "images", "**", "*.jpg"),
               "--output", str(out), "--runner", "FnApiRunner", "--quiet")
    seen = set()
    for size in ("16k", "48k", "96k", "160k", "320k", "640k", "4m"):
        status, err, files = _in_tmpfs(mount, size, job)
        names = [os.path.basename(f) for f in files]
        if status == 0:
            assert "summary.json" in names and "report.html" in names
            seen.add("complete")
            break
        lines = err.strip().splitlines()
        assert status == 1 and len(lines) == 1, (size, err)
        assert lines[0].startswith("tag_images: error: ") and "No space left on device" in lines[0]
        assert not [n for n in names if n.endswith(".tmp")], (size, files)
        if "the run is complete" in lines[0]:
            assert "summary.json" in names
            seen.add("report")
        else:
            assert "summary.json" not in names and "nothing was summarised" in lines[0]
            seen.add("pipeline")
    assert seen == {"pipeline", "report", "complete"}, seen


@needs_mount
def test_a_read_only_output_folder_is_refused_before_the_job_starts(small_sample, tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    status, err, files = _in_tmpfs(mount, "1m", _job(
        "--input", os.path.join(small_sample, "images", "**", "*.jpg"),
        "--output", str(mount / "out"), "--runner", "FnApiRunner"), read_only=True)
    assert status == 2 and files == []
    assert err.strip().splitlines() == [
        f"tag_images: error: --output '{mount / 'out'}' is not writable: Read-only file system"]


@needs_setpriv
def test_unreadable_files_are_dead_letters_and_unreadable_folders_are_named(small_sample,
                                                                            tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(os.path.join(small_sample, "images"), root / "images")
    cam = root / "images" / "cam-01"
    locked_file = cam / "frame-0000.jpg"
    locked_dir = root / "images" / "cam-02"
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(locked_file, 0)
    os.chmod(locked_dir, 0)
    try:
        done = subprocess.run(
            ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
             *_job("--input", str(root / "images" / "**" / "*.jpg"), "--output", str(out),
                   "--runner", "FnApiRunner", "--quiet", "--no-report")],
            cwd=REPO, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(locked_dir, 0o755)
        os.chmod(locked_file, 0o644)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"tag_images: warning: 1 folder(s) under --input cannot be read (e.g. "
        f"'{locked_dir}': permission denied); their images are not part of this run"]
    images = read_summary(str(out))["images"]
    assert images["inputs"] == 16 and images["failed"] == 1  # cam-01 and cam-03, 8 each
    [dead] = read_dead_letters(str(out))
    assert dead == {"image": str(locked_file), "stage": "read",
                    "error": "PermissionError: [Errno 13] Permission denied"}
    with open(out / "run.json", encoding="utf-8") as f:
        assert '"failed_by_reason.Permission denied": 1' in f.read()


def test_symlink_loops_and_folders_named_like_images_are_not_images(small_sample, tmp_path,
                                                                    capsys):
    root = tmp_path / "tree"
    shutil.copytree(os.path.join(small_sample, "images", "cam-01"), root / "cam-01")
    os.symlink(root / "cam-01" / "loop.jpg", root / "cam-01" / "loop.jpg")  # points at itself
    os.symlink(root, root / "cam-01" / "up")  # a folder loop
    (root / "cam-01" / "folder.jpg").mkdir()
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "camera", "timestamp"])
        for name in sorted(os.listdir(root / "cam-01")):
            w.writerow([str(root / "cam-01" / name), "cam-01", ""])
    out = tmp_path / "out"
    assert tag_images.main(["--input", str(root / "**" / "*.jpg"), "--manifest", str(manifest),
                            "--output", str(out), "--quiet", "--no-report",
                            "--runner", "FnApiRunner"]) == 0
    images = read_summary(str(out))["images"]
    assert images == {**images, "inputs": 11, "tagged": 8, "failed": 3, "expected": 11,
                      "missing": 0}  # the file match skips them; the manifest names them
    assert sorted((os.path.basename(d["image"]), d["stage"], d["error"].split(" (")[0])
                  for d in read_dead_letters(str(out))) == [
        ("folder.jpg", "read", "is a directory, not an image file"),
        ("loop.jpg", "read", "broken symbolic link"),
        ("up", "read", "is a directory, not an image file")]


def test_one_input_pattern_that_matches_nothing_stops_the_job(small_sample, tmp_path, capsys):
    good = os.path.join(small_sample, "images", "cam-01", "*.jpg")
    bad = os.path.join(small_sample, "images", "cam-99", "*.jpg")
    assert tag_images.main(["--input", good, "--input", bad, "--output", str(tmp_path / "out"),
                            "--runner", "FnApiRunner"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"tag_images: error: no files match --input {bad!r}"]
    assert not (tmp_path / "out").exists()


def test_os_errors_read_as_their_message_and_count_under_it():
    from transforms.outcomes import _reason
    from traffic.records import reason_kind
    reason = _reason(PermissionError, repr(PermissionError(13, "Permission denied")))
    assert reason == "PermissionError: [Errno 13] Permission denied"
    assert reason_kind(reason) == "Permission denied"
    reason = _reason(FileNotFoundError, repr(FileNotFoundError(2, "No such file", "/x.jpg")))
    assert (reason, reason_kind(reason)) == ("FileNotFoundError: [Errno 2] No such file",
                                             "No such file")
    assert _reason(ValueError, repr(ValueError("bad: x"))) == "ValueError: bad: x"
