"""What a large manifest costs: one job over a small image set whose manifest
lists N rows, almost all of them images that are not there (``missing``), as
a manifest of a whole day of many cameras would be while the upload is short.

    python -m benchmarks.manifest_scale --rows 200000 1000000 [--json FILE]

Prints, per N, the job's wall time and the launcher's peak resident memory
(the DirectRunner runs in the launcher's process), and the per-row figures.
"""

import argparse
import csv
import json
import os
import tempfile

from benchmarks.run import dataset, job, timed


def write_manifest(sample, rows, path):
    """The sample's own rows, then made-up rows up to ``rows`` in all."""
    with open(os.path.join(sample, "manifest.csv"), encoding="utf-8") as f:
        real = list(csv.DictReader(f))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "camera", "timestamp"])
        for r in real:
            w.writerow([os.path.join(sample, r["path"]), r["camera"], r["timestamp"]])
        for i in range(rows - len(real)):
            w.writerow([f"/uploads/cam-{i % 500:03d}/frame-{i:08d}.jpg", f"cam-{i % 500:03d}",
                        f"2026-06-01T{7 + (i // 3600) % 3:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"])
    return len(real)


def measure(sample, rows, workdir):
    manifest = os.path.join(workdir, f"manifest-{rows}.csv")
    real = write_manifest(sample, rows, manifest)
    out = os.path.join(workdir, f"out-{rows}")
    cmd = job(sample, out, "--runner", "FnApiRunner")
    cmd[cmd.index("--manifest") + 1] = manifest
    seconds, peak_mib = timed(cmd)
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        images = json.load(f)["images"]
    assert images["expected"] == rows and images["tagged"] == real, images
    return {"rows": rows, "images": real, "seconds": round(seconds, 1),
            "peak_rss_mib": round(peak_mib), "missing": images["missing"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="manifest-scale-") as workdir:
        sample, _ = dataset(workdir, cameras=6, frames=40)
        for rows in args.rows:
            r = measure(sample, rows, workdir)
            results.append(r)
            print(json.dumps(r), flush=True)
    if len(results) >= 2:
        a, b = results[0], results[-1]
        per_row = {"ms_per_row": round(1000 * (b["seconds"] - a["seconds"]) / (b["rows"] - a["rows"]), 4),
                   "kib_per_row": round(1024 * (b["peak_rss_mib"] - a["peak_rss_mib"])
                                        / (b["rows"] - a["rows"]), 3)}
        print(json.dumps(per_row))
        results.append(per_row)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
