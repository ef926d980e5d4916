"""The benchmark's hand-written loop does the same work as the pipeline."""

import json
import os

import pandas as pd

from benchmarks import hand_loop
from pipelines.outputs import read_table
from pipelines import tag_images
from tests.conftest import sample_args


def test_hand_loop_and_pipeline_summaries_are_equal(small_sample, tmp_path):
    hand = hand_loop.run(small_sample, str(tmp_path / "hand"))
    out = str(tmp_path / "beam")
    assert tag_images.main(sample_args(small_sample, out, "--runner", "FnApiRunner")) == 0
    with open(os.path.join(out, "summary.json")) as f:
        assert json.load(f) == json.loads(json.dumps(hand))
    for name in ("vehicles", "images", "windows"):
        a, b = read_table(out, name), read_table(str(tmp_path / "hand"), name)
        key = list(a.columns)
        pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                      b.sort_values(key).reset_index(drop=True))
