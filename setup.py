"""Package setup; also usable as Beam's --setup_file to ship the code to workers."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def requirements(name):
    with open(os.path.join(HERE, name)) as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith(("#", "-r"))]


setup(
    name="highway-vehicle-tagging",
    version="0.1.0",
    description="Coordinated batch tagging of highway images on Apache Beam: "
                "vehicle types and colours, joined and reduced into aggregates.",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["traffic", "traffic.*", "transforms", "transforms.*", "scenes",
                                    "pipelines", "pipelines.*"]),
    install_requires=requirements("requirements.txt"),
    extras_require={"test": requirements("requirements-test.txt")},
)
