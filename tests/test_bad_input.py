"""Issue 4's acceptance: a data set mixing good images, every bad kind, odd but
valid images and a manifest naming files that do not exist."""

import csv
import glob
import json
import os
import shutil

import pytest

from pipelines import tag_images
from tests import image_cases

BROKEN, FOLDER = "broken-link.jpg", "folder.jpg"


def _write_manifest(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path"])
        w.writerows([r] for r in rows)


@pytest.fixture(scope="module")
def mixed(small_sample, tmp_path_factory):
    """(mixed set dir, good-only dir): same good images in both."""
    root = tmp_path_factory.mktemp("mixed")
    good, mixed = root / "good", root / "mixed"
    for d in (good, mixed):
        shutil.copytree(os.path.join(small_sample, "images"), d / "images")
        (d / "images" / "odd").mkdir()
        for name, data in image_cases.odd_but_valid().items():
            (d / "images" / "odd" / name).write_bytes(data)
    # an image the manifest does not list
    shutil.copy(mixed / "images" / "cam-03" / "frame-0000.jpg", mixed / "images" / "cam-03" / "extra.jpg")
    shutil.copy(good / "images" / "cam-03" / "frame-0000.jpg", good / "images" / "cam-03" / "extra.jpg")
    listed = sorted(os.path.relpath(p, mixed) for p in glob.glob(str(mixed / "images" / "*" / "*"))
                    if not p.endswith("extra.jpg"))
    for name, (data, _) in image_cases.bad().items():
        (mixed / "images" / "cam-01" / name).write_bytes(data)
        listed.append(f"images/cam-01/{name}")
    os.symlink(mixed / "images" / "nowhere.jpg", mixed / "images" / "cam-02" / BROKEN)
    (mixed / "images" / "cam-02" / FOLDER).mkdir()
    listed += [f"images/cam-02/{BROKEN}", f"images/cam-02/{FOLDER}",
               "images/cam-01/never-taken.jpg", "images/cam-09/lost.jpg"]
    listed.append(listed[0])  # a duplicate row
    _write_manifest(mixed / "manifest.csv", listed)
    return str(mixed), str(good)


def _run(folder, out, *extra):
    return tag_images.main(["--input", os.path.join(folder, "images", "**", "*"), "--output", out,
                            "--quiet", "--runner", "FnApiRunner", *extra])


def _camera_files(folder, camera):
    return len(os.listdir(os.path.join(folder, "images", camera)))


def test_every_image_accounted_for_and_bad_input_never_stops_the_run(mixed, tmp_path):
    mixed_dir, good_dir = mixed
    out, good_out = str(tmp_path / "mixed"), str(tmp_path / "good")
    # a second, overlapping pattern: cam-01's files are matched twice
    assert _run(mixed_dir, out, "--manifest", os.path.join(mixed_dir, "manifest.csv"),
                "--input", os.path.join(mixed_dir, "images", "cam-01", "*")) == 0
    assert _run(good_dir, good_out) == 0
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    n_good = 24 + len(image_cases.odd_but_valid())
    n_bad = len(image_cases.bad()) + 2
    assert summary["images"] == {"inputs": n_good + 1 + n_bad, "tagged": n_good + 1, "failed": n_bad,
                                 "missing": 2, "unexpected": 1,
                                 "duplicate_matches": _camera_files(mixed_dir, "cam-01"),
                                 "expected": n_good + n_bad + 2, "duplicate_manifest_rows": 1}
    # the odd but valid images were tagged, never failed
    import pandas as pd
    images = pd.read_parquet(os.path.join(out, "images"))
    odd = images[images["camera"] == "odd"]
    assert sorted(odd["status"]) == ["tagged"] * len(image_cases.odd_but_valid())
    assert set(odd["width"]) == {640} and set(odd["height"]) == {360}
    # every bad file is named in the dead letters with a specific reason
    dead = {}
    for path in glob.glob(os.path.join(out, "dead_letter", "*.jsonl")):
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                dead[os.path.basename(d["image"])] = (d["stage"], d["error"])
    expected = {name: ("decode", words) for name, (_, words) in image_cases.bad().items()}
    expected[BROKEN] = ("read", "broken symbolic link")
    expected[FOLDER] = ("read", "is a directory")
    assert set(dead) == set(expected)
    for name, (stage, words) in expected.items():
        assert dead[name][0] == stage and words in dead[name][1], (name, dead[name])
    failed = images[images["status"] == "failed"]
    assert len(failed) == n_bad and failed["error"].notna().all()
    # vehicle figures are those of the good images alone
    with open(os.path.join(good_out, "summary.json")) as f:
        good = json.load(f)
    assert summary["vehicles"] == good["vehicles"]
    assert summary["cameras"] == good["cameras"]


def test_max_failed_fraction_writes_everything_then_exits_non_zero(mixed, tmp_path, capsys):
    mixed_dir, _ = mixed
    out = str(tmp_path / "o")
    assert _run(mixed_dir, out, "--max-failed-fraction", "0.1") == 1
    assert os.path.exists(os.path.join(out, "summary.json"))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "more than --max-failed-fraction 0.1" in err[0]
