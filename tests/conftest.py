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
