"""The same job on another runner gives the same results: Beam's Prism runner
(a portable runner with real watermarks and separate worker processes),
built by run_tests.sh from the Go module proxy."""

import os
import shutil

import pytest

from pipelines import tag_images
from pipelines.outputs import read_summary
from tests.conftest import same_outputs, sample_args

PRISM = os.environ.get("PRISM_BINARY") or shutil.which("prism")

needs_prism = pytest.mark.skipif(
    PRISM is None and not os.environ.get("CI"),
    reason="no Prism binary (run_tests.sh builds it when Go is installed)")


@needs_prism
def test_prism_gives_the_same_outputs_as_the_direct_runner(small_sample, tmp_path):
    direct, prism = str(tmp_path / "direct"), str(tmp_path / "prism")
    extra = ["--no-report"]
    assert tag_images.main(sample_args(small_sample, direct, "--runner", "FnApiRunner", *extra)) == 0
    assert tag_images.main(sample_args(small_sample, prism, "--runner", "PrismRunner",
                                       "--prism_location", PRISM, *extra)) == 0
    same_outputs(direct, prism)
    assert read_summary(prism)["cameras"]["cam-01"]["windows"]  # event-time windows survive


@needs_prism
def test_prism_handles_bad_input_the_same_way(small_sample, tmp_path):
    from tests import image_cases
    images = tmp_path / "set" / "images"
    shutil.copytree(os.path.join(small_sample, "images", "cam-02"), images / "cam-02")
    for name, (data, _) in image_cases.bad().items():
        (images / "cam-02" / name).write_bytes(data)
    args = ["--input", str(images / "**" / "*"), "--quiet", "--no-report"]
    direct, prism = str(tmp_path / "direct"), str(tmp_path / "prism")
    assert tag_images.main(args + ["--output", direct, "--runner", "FnApiRunner"]) == 0
    assert tag_images.main(args + ["--output", prism, "--runner", "PrismRunner",
                                   "--prism_location", PRISM]) == 0
    same_outputs(direct, prism)
    assert read_summary(prism)["images"]["failed"] == len(image_cases.bad())


def test_prism_without_a_local_build_stops_before_any_download(small_sample, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    assert tag_images.main(sample_args(small_sample, str(tmp_path / "o"),
                                       "--runner", "PrismRunner")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scripts/build_prism.sh" in err[0]
