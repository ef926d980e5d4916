import os

import pytest

from pipelines.generate_sample import generate


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """3 cameras x 8 frames, generated once per test session."""
    folder = str(tmp_path_factory.mktemp("sample"))
    generate(folder, cameras=3, frames_per_camera=8, seed=99, workers=1)
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
