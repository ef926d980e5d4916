import os

import numpy as np
import pandas as pd
import pytest

from pipelines.generate_sample import generate
from pipelines.outputs import read_dead_letters, read_summary, read_table


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """3 cameras x 8 frames, generated once per test session."""
    folder = str(tmp_path_factory.mktemp("sample"))
    generate(folder, cameras=3, frames_per_camera=8, seed=99, workers=1, geometry="top-down")
    return folder


def sample_args(sample, output, *extra):
    return ["--input", os.path.join(sample, "images", "**", "*.jpg"),
            "--manifest", os.path.join(sample, "manifest.csv"),
            "--output", output, "--quiet", *extra]


def fn_api_pipeline(**options):
    """A TestPipeline on the FnApiRunner (the DirectRunner's engine), named
    explicitly: a bare DirectRunner first tries Prism, which would download a
    binary at run time."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline
    return TestPipeline(options=PipelineOptions(runner="FnApiRunner", **options))


def same_outputs(a, b):
    assert read_summary(a) == read_summary(b)
    for name in ("vehicles", "images", "windows", "cameras"):
        x, y = read_table(a, name), read_table(b, name)
        key = [c for c in x.columns if x[c].map(np.ndim).eq(0).all()]  # list columns compared, not sorted on
        pd.testing.assert_frame_equal(x.sort_values(key).reset_index(drop=True),
                                      y.sort_values(key).reset_index(drop=True))
    by_image = lambda rows: sorted((d["image"], d["stage"], d["error"]) for d in rows)  # noqa: E731
    assert by_image(read_dead_letters(a)) == by_image(read_dead_letters(b))
