"""--cameras-from: a batch tagged against the cameras an earlier run learned.

Fixed cameras deliver frames every day; a day's batch may hold too few of a
camera's frames to learn its empty road and geometry from.  The job can take
them from an earlier run's ``DIR/cameras/`` instead, and learns as usual the
cameras that run does not hold."""

import os

import pandas as pd

from pipelines import tag_images
from pipelines.outputs import read_table


def _run(sample, out, cameras, *extra):
    args = ["--output", out, "--quiet", "--no-report", "--runner", "FnApiRunner", *extra]
    for camera in cameras:
        args += ["--input", os.path.join(sample, "images", camera, "*.jpg")]
    assert tag_images.main(args) == 0
    return read_table(out, "cameras").set_index("camera"), read_table(out, "vehicles")


def _boxes(vehicles, camera):
    v = vehicles[vehicles["camera"] == camera]
    return sorted(map(tuple, v[["image", "type", "colour", "x0", "y0", "x1", "y1"]].to_numpy().tolist()))


def test_stored_cameras_are_used_as_they_are_and_the_others_learned(small_sample, tmp_path):
    earlier, _ = _run(small_sample, str(tmp_path / "earlier"), ["cam-01"])
    alone, alone_vehicles = _run(small_sample, str(tmp_path / "alone"), ["cam-02"])
    cameras, vehicles = _run(small_sample, str(tmp_path / "batch"), ["cam-01", "cam-02"],
                             "--cameras-from", str(tmp_path / "earlier"))
    assert sorted(cameras.index) == ["cam-01", "cam-02"]
    # cam-01 as the earlier run learned it, its empty road included ...
    pd.testing.assert_series_equal(cameras.loc["cam-01"].drop("lane_centres_m"),
                                   earlier.loc["cam-01"].drop("lane_centres_m"))
    assert list(cameras.loc["cam-01", "lane_centres_m"]) == list(earlier.loc["cam-01", "lane_centres_m"])
    # ... and cam-02, which that run did not hold, learned here: as a run of it alone does
    pd.testing.assert_series_equal(cameras.loc["cam-02"].drop("lane_centres_m"),
                                   alone.loc["cam-02"].drop("lane_centres_m"))
    assert _boxes(vehicles, "cam-02") == _boxes(alone_vehicles, "cam-02")
    # every cam-01 frame tagged against the stored road: about what the earlier run found
    earlier_vehicles = read_table(str(tmp_path / "earlier"), "vehicles")
    assert vehicles["image"].str.contains("cam-01").sum() > 0
    found, before = _boxes(vehicles, "cam-01"), _boxes(earlier_vehicles, "cam-01")
    assert len(set(found) & set(before)) >= 0.9 * len(before)
