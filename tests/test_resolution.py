"""benchmarks/resolution.py's resized copies: what it compares the tagger on."""

import numpy as np
import pandas as pd
from PIL import Image

from benchmarks.resolution import resized_copy
from pipelines.generate_sample import generate


def test_a_resized_copy_has_every_frame_and_box_twice_the_size(tmp_path):
    original, copy = tmp_path / "x1", tmp_path / "x2"
    generate(str(original), cameras=1, frames_per_camera=2, seed=8, workers=1, geometry="elevated")
    resized_copy(str(original), str(copy), 2)
    assert (copy / "manifest.csv").read_text() == (original / "manifest.csv").read_text()
    truth = pd.read_parquet(original / "ground_truth.parquet")
    big = pd.read_parquet(copy / "ground_truth.parquet")
    assert len(truth) and (big[["x0", "y0", "x1", "y1"]] == 2 * truth[["x0", "y0", "x1", "y1"]]).all().all()
    assert big[["image", "type", "colour", "occluded", "small"]].equals(
        truth[["image", "type", "colour", "occluded", "small"]])
    for image in truth["image"].unique():
        a, b = Image.open(original / image), Image.open(copy / image)
        assert b.size == (2 * a.width, 2 * a.height)
        half = np.asarray(b, dtype=float).reshape(a.height, 2, a.width, 2, 3).mean(axis=(1, 3))
        assert np.median(np.abs(half - np.asarray(a, dtype=float))) < 4
