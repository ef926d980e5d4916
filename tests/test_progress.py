import os

from pipelines import tag_images
from tests.conftest import sample_args
from transforms.progress import ProgressCounter, format_progress, images_done


def test_progress_line_with_and_without_a_known_total():
    assert format_progress(50, 10.0) == "progress: 50 images done, 5.0 images/s"
    assert format_progress(50, 10.0, total=200) == \
        "progress: 50 images done, 5.0 images/s, 25 % of 200, ETA 30 s"
    assert format_progress(200, 10.0, total=200).endswith("100 % of 200")


def test_the_eta_comes_from_the_rate_since_the_first_images():
    """Learning each camera comes before the first image: 1 image after 30 s
    is no rate to plan by."""
    assert format_progress(1, 30.0, total=241, first=(1, 30.0)) == \
        "progress: 1 images done, 0.0 images/s, 0 % of 241"
    assert format_progress(61, 40.0, total=241, first=(1, 30.0)).endswith(", ETA 30 s")


def test_counters_of_several_workers_add_up(tmp_path):
    a, b = ProgressCounter(str(tmp_path)), ProgressCounter(str(tmp_path))
    for _ in range(3):
        a.add()
    b.add(4)
    a.flush()
    b.flush()
    assert images_done(str(tmp_path)) == 7


def test_a_local_run_prints_progress_then_the_tables(small_sample, tmp_path, capsys):
    args = [a for a in sample_args(small_sample, str(tmp_path / "o")) if a != "--quiet"]
    assert tag_images.main(args + ["--runner", "FnApiRunner", "--progress-every", "0.2",
                                   "--no-report"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("progress: ")]
    assert lines and all("% of 24" in line for line in lines)
    assert "images: 24 inputs, 24 tagged" in out and "images.tagged" in out
    assert not os.path.exists(os.path.join(tmp_path, "o", "report.html"))
