"""Hostile input: file names no text coder can carry, names that are markup
or look like flags, and a second job writing into the same output folder."""

import os
import shutil
import subprocess
import sys
import time
import urllib.parse

from pipelines import tag_images
from pipelines.outputs import read_dead_letters, read_summary, read_table
from tests import image_cases
from traffic.paths import file_path, image_id

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ODD_NAMES = [
    b"x\xff0.jpg",                        # not UTF-8 (an old camera uploader)
    b"we\"ird 'quoted' name.jpg",
    b"new\nline.jpg",
    b"<img src=x onerror=alert(1)>.jpg",
    b"-leading-dash.jpg",
    b"100%.jpg",
    b"caf\xc3\xa9.jpg",                   # valid UTF-8, not ASCII
]


def test_image_ids_are_text_and_reverse_exactly():
    for raw in ODD_NAMES + [b"%25.jpg", b"%ff.jpg", b"a%2Fb.jpg"]:
        path = os.fsdecode(b"/data/cam/" + raw)
        ident = image_id(path)
        ident.encode("utf-8")  # every coder and sink can carry it
        assert file_path(ident) == path
        assert urllib.parse.unquote_to_bytes(ident) == b"/data/cam/" + raw
    assert image_id("/data/cam/plain.jpg") == "/data/cam/plain.jpg"  # most names stay as they are


def test_odd_file_names_are_processed_accounted_for_and_shown_escaped(tmp_path):
    cam = tmp_path / "images" / "cam-01"
    cam.mkdir(parents=True)
    for frame, raw in enumerate(ODD_NAMES):  # different frames of one camera
        with open(os.path.join(os.fsencode(cam), raw), "wb") as f:
            f.write(image_cases.good_jpeg(image_cases.scene_pixels(frame=frame)))
    broken = b"<img src=y onerror=alert(2)>\xfe.jpg"
    with open(os.path.join(os.fsencode(cam), broken), "wb") as f:
        f.write(b"not a jpeg")
    out = tmp_path / "out"
    assert tag_images.main(["--input", str(tmp_path / "images" / "**" / "*"),
                            "--output", str(out), "--quiet", "--runner", "FnApiRunner"]) == 0
    summary = read_summary(str(out))
    assert summary["images"]["inputs"] == len(ODD_NAMES) + 1
    assert summary["images"]["tagged"] == len(ODD_NAMES) and summary["images"]["failed"] == 1
    images = read_table(str(out), "images")
    raw_names = {urllib.parse.unquote_to_bytes(i).rsplit(b"/", 1)[1] for i in images["image"]}
    assert raw_names == set(ODD_NAMES) | {broken}
    [dead] = read_dead_letters(str(out))
    assert dead["image"].endswith("/<img src=y onerror=alert(2)>%FE.jpg")
    assert dead["stage"] == "decode"
    vehicles = read_table(str(out), "vehicles")
    assert set(vehicles["image"]) <= set(images["image"]) and len(vehicles) > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x onerror" not in report and "<img src=y onerror" not in report
    assert "&lt;img src=y onerror=alert(2)&gt;%FE.jpg" in report  # the failures table, escaped


def test_a_second_job_into_the_same_output_is_refused_while_the_first_finishes(
        small_sample, tmp_path):
    out = tmp_path / "out"
    args = ["--input", os.path.join(small_sample, "images", "**", "*.jpg"),
            "--manifest", os.path.join(small_sample, "manifest.csv"),
            "--output", str(out), "--quiet", "--no-report", "--runner", "FnApiRunner"]
    first = subprocess.Popen([sys.executable, "-m", "pipelines.tag_images", *args], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / tag_images.LOCK).exists():  # the first job holds the folder
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "pipelines.tag_images", *args], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        errors = [line for line in second.stderr.splitlines() if "error" in line]
        assert errors == [errors[-1]] and "another job" in errors[0] and str(first.pid) in errors[0]
        _, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
    summary = read_summary(str(out))
    assert summary["images"]["tagged"] == summary["images"]["expected"] == 24
    assert not (out / tag_images.LOCK).exists()


def test_a_lock_left_by_a_dead_job_is_taken_over_with_a_warning(small_sample, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / tag_images.LOCK).write_text(f"{dead.pid} {os.uname().nodename} 2026-01-01T00:00:00\n")
    args = ["--input", os.path.join(small_sample, "images", "cam-01", "*.jpg"),
            "--output", str(out), "--quiet", "--no-report", "--runner", "FnApiRunner"]
    assert tag_images.main(args) == 0
    err = capsys.readouterr().err
    assert "warning" in err and f"process {dead.pid}" in err
    assert read_summary(str(out))["images"]["tagged"] == 8
    assert not (out / tag_images.LOCK).exists()


def test_a_rerun_removes_the_temporary_folders_a_killed_run_left(small_sample, tmp_path):
    out = tmp_path / "out"
    leftovers = [out / "vehicles" / "beam-temp-part-0123abc", out / "windows" / "beam-temp-part-x"]
    for folder in leftovers:
        folder.mkdir(parents=True)
        (folder / "part-00000").write_text("x")
    mine = out / "vehicles" / "beam-temp-notes.txt"  # a user's file that only looks like one
    mine.write_text("keep me")
    users_folder = out / "beam-temp-my-things"  # not where the job's sinks write
    users_folder.mkdir()
    args = ["--input", os.path.join(small_sample, "images", "cam-01", "*.jpg"),
            "--output", str(out), "--quiet", "--no-report", "--runner", "FnApiRunner"]
    assert tag_images.main(args) == 0
    assert not any(f.exists() for f in leftovers)
    assert mine.read_text() == "keep me" and users_folder.is_dir()


def test_no_optional_package_warnings_in_a_run(small_sample, tmp_path):
    """Beam warns once per process about optional packages it lacks (apitools
    at 2.77; crcmod, for TFRecord files, at 2.70): noise on every run."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "pipelines.tag_images",
                          "--input", os.path.join(small_sample, "images", "cam-01", "*.jpg"),
                          "--output", str(out), "--no-report", "--runner", "FnApiRunner"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for noise in ("apitools", "crcmod"):
        assert noise not in run.stderr and noise not in (out / "run.log").read_text()


def test_detect_and_tag_modules_do_not_import_each_other():
    code = ("import sys, transforms.detect; "
            "assert 'transforms.tag' not in sys.modules, 'detect imports tag'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def _descendants(pid):
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                              text=True).stdout.split()
    found = [int(c) for c in children]
    for c in list(found):
        found += _descendants(c)
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_worker_ends_the_run_in_one_line_and_a_rerun_starts_clean(tmp_path):
    from pipelines.generate_sample import generate
    sample = tmp_path / "sample"
    generate(str(sample), cameras=6, frames_per_camera=40, seed=123, workers=1,
             geometry="top-down")
    out = tmp_path / "out"
    args = ["--input", str(sample / "images" / "**" / "*.jpg"), "--output", str(out),
            "--no-report", "--runner", "FnApiRunner", "--direct_num_workers", "2",
            "--direct_running_mode", "multi_processing"]
    job = subprocess.Popen([sys.executable, "-m", "pipelines.tag_images", *args], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while True:
            workers = [p for p in _descendants(job.pid)
                       if _cmdline(p).startswith(sys.executable) and "sdk_worker_main" in _cmdline(p)]
            if len(workers) == 2:
                break
            assert job.poll() is None and time.time() < deadline, job.communicate()
            time.sleep(0.1)
        time.sleep(0.5)
        os.kill(workers[0], 9)  # the workers live until the run ends, so it is mid-run
        _, err = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tag_images: error: the run failed (a worker process died")
    assert "nothing was summarised" in lines[0] and str(out / "run.log") in lines[0]
    assert not (out / "summary.json").exists()
    assert "Traceback" in (out / "run.log").read_text()  # the detail is kept
    time.sleep(2)
    assert not [p for p in workers[1:] if os.path.exists(f"/proc/{p}")
                and "sdk_worker_main" in _cmdline(p)]  # the other worker exited
    rerun = subprocess.run([sys.executable, "-m", "pipelines.tag_images", *args, "--quiet"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert read_summary(str(out))["images"]["tagged"] == 240


def test_an_output_folder_inside_the_input_tree_is_not_read_back(small_sample, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(os.path.join(small_sample, "images", "cam-01"), tree / "cam-01")
    args = ["--input", str(tree / "**" / "*"), "--output", str(tree / "out"), "--quiet",
            "--runner", "FnApiRunner"]
    assert tag_images.main(args) == 0
    assert tag_images.main(args) == 0  # the second run sees the first run's outputs
    images = read_summary(str(tree / "out"))["images"]
    assert images["inputs"] == images["tagged"] == 8 and images["failed"] == 0


def _manifest_run(sample, manifest, out, capsys):
    assert tag_images.main(["--input", os.path.join(sample, "images", "**", "*.jpg"),
                            "--manifest", str(manifest), "--output", str(out), "--no-report",
                            "--strict-manifest", "--runner", "FnApiRunner"]) == 0
    return read_summary(str(out))["images"], capsys.readouterr().out


def _listed(sample, n):
    import csv
    with open(os.path.join(sample, "manifest.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))[:n]


def test_a_manifest_with_bom_crlf_relative_parent_paths_and_zoned_times(
        small_sample, tmp_path, capsys):
    folder = tmp_path / "lists"
    folder.mkdir()
    rows = _listed(small_sample, 4)
    lines = ["path,camera,timestamp"]
    for i, r in enumerate(rows):
        rel = os.path.relpath(os.path.join(small_sample, r["path"]), folder)  # ../...
        lines.append(f"{rel},{r['camera']},{r['timestamp']}{'+02:00' if i % 2 else 'Z'}")
    (folder / "m.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    images, _ = _manifest_run(small_sample, folder / "m.csv", tmp_path / "out", capsys)
    assert images["expected"] == images["tagged"] == 4 and images["missing"] == 0
    windows = read_table(str(tmp_path / "out"), "windows")
    assert len(windows) > 0  # the zoned times were understood and windowed


def test_a_broken_manifest_row_or_an_impossible_time_is_counted_not_fatal(
        small_sample, tmp_path, capsys):
    rows = _listed(small_sample, 3)
    path = lambda r: os.path.join(small_sample, r["path"])  # noqa: E731
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        f'{{"path": "{path(rows[0])}", "timestamp": "0001-01-01T00:00:00"}}\n'
        '{broken\n'
        f'{{"path": "{path(rows[1])}", "timestamp": "9999-12-31T23:59:59"}}\n'
        f'{{"path": "{path(rows[2])}", "timestamp": "not a time"}}\n'
        '{"camera": "no path"}\n', encoding="utf-8")
    images, printed = _manifest_run(small_sample, manifest, tmp_path / "out", capsys)
    assert images["expected"] == images["tagged"] == 3
    assert "manifest.bad_rows" in printed and "manifest.bad_timestamps" in printed
    counters = dict(line.split() for line in printed.splitlines()
                    if line.strip().startswith("manifest."))
    assert counters == {"manifest.bad_rows": "2", "manifest.bad_timestamps": "3"}


def test_an_unset_camera_clock_in_exif_is_no_time():
    import io
    from PIL import Image
    from traffic.imaging import decode_image
    exif = Image.Exif()
    exif[0x0132] = "0000:00:00 00:00:00"
    buf = io.BytesIO()
    Image.fromarray(image_cases.scene_pixels()).save(buf, "JPEG", exif=exif)
    assert decode_image(buf.getvalue()).taken_at is None
