"""The benchmark's hand-written loop does the same work as the pipeline."""

import json
import os

from benchmarks import hand_loop
from pipelines import tag_images
from tests.conftest import sample_args


def test_hand_loop_and_pipeline_summaries_are_equal(small_sample, tmp_path):
    hand = hand_loop.run(small_sample, str(tmp_path / "hand"))
    out = str(tmp_path / "beam")
    assert tag_images.main(sample_args(small_sample, out, "--runner", "FnApiRunner")) == 0
    with open(os.path.join(out, "summary.json")) as f:
        assert json.load(f) == json.loads(json.dumps(hand))
