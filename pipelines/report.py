"""report.html: one self-contained page a person opens after a run.

    python -m pipelines.report --output DIR

Built only from the run's own outputs (summary.json, the Parquet tables, the
dead letters, run.json when present), so it can be rebuilt for any earlier
run.  Charts are matplotlib SVG inlined in the page and the gallery images are
inlined JPEG: no network, no CDN.
"""

import argparse
import base64
import collections
import html
import io
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from pipelines import camera_view  # noqa: E402
from pipelines.outputs import read_dead_letters, read_summary, read_table  # noqa: E402
from traffic.imaging import decode_image  # noqa: E402
from traffic.records import reason_kind  # noqa: E402
from traffic.vocabulary import COLOUR_RGB, VEHICLE_TYPES  # noqa: E402
from traffic.paths import file_path  # noqa: E402
from transforms.write import write_atomically  # noqa: E402

from pipelines.report_files import REPORT, RUN_INFO  # noqa: E402
TYPE_COLOURS = {"car": "#4c72b0", "truck": "#dd8452", "bus": "#55a868", "motorcycle": "#c44e52"}
GALLERY_PER_CAMERA = 2
GALLERY_WIDTH = 480


def _svg(fig):
    buf = io.StringIO()
    # no metadata block: no date (the same run gives the same page), no links
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def chart_by_type(summary):
    cams = summary["cameras"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1, 2.2]})
    by_type = summary["vehicles"]["by_type"]
    bars = a.bar(list(by_type), list(by_type.values()),
                 color=[TYPE_COLOURS.get(t, "#888") for t in by_type])
    a.bar_label(bars)
    a.set_title("All cameras")
    a.set_ylabel("vehicles")
    names = list(cams)
    x = np.arange(len(names))
    width = 0.8 / len(VEHICLE_TYPES)
    for i, t in enumerate(VEHICLE_TYPES):
        b.bar(x + i * width, [cams[c]["vehicles"]["by_type"].get(t, 0) for c in names], width,
              label=t, color=TYPE_COLOURS[t])
    b.set_xticks(x + width * (len(VEHICLE_TYPES) - 1) / 2, names, rotation=30 if len(names) > 8 else 0)
    b.set_title("Per camera")
    b.legend(ncols=4, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _svg(fig)


def chart_colours(summary):
    colours = summary["vehicles"]["colours"]
    types = [t for t in VEHICLE_TYPES if colours.get(t)]
    if not types:
        return "<p>No vehicles.</p>"
    fig, axes = plt.subplots(1, len(types), figsize=(3.2 * len(types), 3.6), squeeze=False)
    for ax, t in zip(axes[0], types):
        items = sorted(colours[t].items(), key=lambda kv: -kv[1])
        total = sum(n for _, n in items)
        names = [c for c, _ in items]
        bars = ax.barh(names[::-1], [n for _, n in items][::-1],
                       color=[tuple(v / 255 for v in COLOUR_RGB.get(c, (128, 128, 128))) for c in names[::-1]],
                       edgecolor="#333", linewidth=0.5)
        ax.bar_label(bars, labels=[f"{n} ({n / total:.0%})" for _, n in items][::-1], fontsize=7, padding=2)
        ax.set_title(f"{t} ({total})")
        ax.margins(x=0.35)
    return _svg(fig)


def chart_windows(summary):
    fig, ax = plt.subplots(figsize=(11, 3.4))
    any_line = False
    for camera, block in summary["cameras"].items():
        w = block.get("windows", [])
        if w:
            any_line = True
            ax.plot([x["start"][11:16] for x in w], [x["total"] for x in w], marker="o", label=camera)
    if not any_line:
        plt.close(fig)
        return "<p>No timestamps, so no time series.</p>"
    ax.set_ylabel(f"vehicles per {summary.get('settings', {}).get('window_minutes', 15):g} min")
    ax.set_xlabel("window start")
    ax.legend(ncols=8, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.28))
    ax.tick_params(axis="x", rotation=45)
    return _svg(fig)


def chart_per_image(summary):
    hist = summary["vehicles"]["per_image"]["histogram"]
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.bar([int(k) for k in hist], list(hist.values()), color="#4c72b0")
    ax.set_xlabel("vehicles in the image")
    ax.set_ylabel("images")
    pi = summary["vehicles"]["per_image"]
    ax.set_title(f"mean {pi['mean']:.1f}, max {pi['max']}")
    return _svg(fig)


def _box_image(path, boxes):
    """A downscaled frame with its boxes drawn and labelled, as a data: URI."""
    with open(path, "rb") as f:
        d = decode_image(f.read())
    img = Image.fromarray(d.pixels)
    k = min(1.0, GALLERY_WIDTH / img.width)
    if k < 1:
        img = img.resize((GALLERY_WIDTH, round(img.height * k)))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=10)
    for b in boxes.itertuples():
        colour = TYPE_COLOURS.get(b.type, "#ffffff")
        x0, y0, x1, y1 = (round(v * k) for v in (b.x0, b.y0, b.x1, b.y1))
        draw.rectangle([x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)], outline=colour, width=2)
        label = f"{b.type} {b.colour}"
        tx, ty = x0, max(0, y0 - 11)
        draw.rectangle(draw.textbbox((tx, ty), label, font=font), fill=colour)
        draw.text((tx, ty), label, fill="#ffffff", font=font)
    return _data_uri(img)


def gallery(output):
    images = read_table(output, "images")
    vehicles = read_table(output, "vehicles")
    tagged = images[images["status"] == "tagged"].sort_values("image")
    cells = []
    for camera, rows in tagged.groupby("camera", sort=True):
        picks = rows.sort_values("vehicles", ascending=False, kind="stable").head(GALLERY_PER_CAMERA)
        for r in picks.itertuples():
            path = file_path(r.image)
            if "://" in path or not os.path.exists(path):
                continue
            try:
                uri = _box_image(path, vehicles[vehicles["image"] == r.image])
            except Exception:  # noqa: BLE001 - a gallery frame is not worth failing the report
                continue
            cells.append(f'<figure><img src="{uri}" alt="{html.escape(os.path.basename(r.image))}">'
                         f"<figcaption>{html.escape(camera)}: {html.escape(os.path.basename(r.image))}"
                         f", {r.vehicles} vehicles</figcaption></figure>")
    return "".join(cells) or "<p>No tagged images to show.</p>"


def _data_uri(img):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def cameras(output):
    """Each camera's estimated empty road with the geometry learned from it."""
    rows = read_table(output, "cameras")
    cells = []
    for row in rows.sort_values("camera").to_dict("records"):
        c = camera_view.record(row)
        if not c.empty_road_jpeg:
            continue
        try:
            uri = _data_uri(camera_view.draw(c, GALLERY_WIDTH))
        except Exception:  # noqa: BLE001 - a drawing is not worth failing the report
            continue
        cells.append(f'<figure><img src="{uri}" alt="empty road of {html.escape(c.camera)}">'
                     f"<figcaption>{html.escape(camera_view.caption(c))}</figcaption></figure>")
    return "".join(cells) or "<p>No camera geometry (the detector learns none).</p>"


def failures(output):
    dead = read_dead_letters(output)
    if not dead:
        return "<p>No failures.</p>"
    by_reason = collections.defaultdict(list)
    for d in dead:
        by_reason[(d["stage"], reason_kind(d["error"]))].append(d["image"])
    rows = "".join(
        f"<tr><td>{html.escape(stage)}</td><td>{html.escape(kind)}</td><td>{len(paths)}</td>"
        f"<td>{'<br>'.join(html.escape(p) for p in sorted(paths)[:3])}</td></tr>"
        for (stage, kind), paths in sorted(by_reason.items(), key=lambda kv: -len(kv[1])))
    return ("<table><tr><th>stage</th><th>reason</th><th>images</th><th>examples</th></tr>"
            f"{rows}</table>")


def header(summary, run):
    im = summary["images"]
    cells = [(k, im.get(k, 0)) for k in ("inputs", "tagged", "failed", "missing", "unexpected")]
    cells.append(("vehicles", summary["vehicles"]["total"]))
    facts = [f"tagger: {summary.get('settings', {}).get('tagger', '?')}"]
    if run:
        if run.get("model"):
            facts.append(f"model: {run['model']}")
        facts += [f"runner: {run.get('runner', '?')}",
                  f"run time: {run.get('seconds', 0):.1f} s",
                  f"{run.get('images_per_s', 0):.1f} images/s"]
    tiles = "".join(f'<div class="tile"><b>{v}</b><span>{k}</span></div>' for k, v in cells)
    return f'<div class="tiles">{tiles}</div><p class="facts">{" · ".join(map(html.escape, facts))}</p>'


STYLE = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222}
h1{margin-bottom:4px} h2{margin-top:32px;border-bottom:1px solid #ddd}
.tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{background:#f3f5f8;border-radius:8px;padding:10px 18px;min-width:90px}
.tile b{display:block;font-size:1.6em}.tile span{color:#666}.facts{color:#555}
.gallery{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;max-width:480px}figcaption{font-size:.85em;color:#555}
svg{max-width:100%;height:auto} table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
"""


def build_report(output):
    summary = read_summary(output)
    run = None
    if os.path.exists(os.path.join(output, RUN_INFO)):
        with open(os.path.join(output, RUN_INFO)) as f:
            run = json.load(f)
    sections = [
        ("Vehicles by type", chart_by_type(summary)),
        ("Colours per type", chart_colours(summary)),
        ("Rush hour: vehicles per window and camera", chart_windows(summary)),
        ("Vehicles per image (congestion)", chart_per_image(summary)),
        ("Sample frames with their tags", f'<div class="gallery">{gallery(output)}</div>'),
        ("Cameras: what the job learned from each one's empty road",
         "<p>Each camera's estimated empty road, with lines one lane (3.6 m) apart running "
         "along the road as the job understands it, the vanishing point (red) and the scale "
         "across the road (full-size pixels per metre).</p>"
         f'<div class="gallery">{cameras(output)}</div>'),
        ("Failures", failures(output)),
    ]
    body = "".join(f'<section><h2>{html.escape(t)}</h2>{c}</section>' for t, c in sections)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Vehicle tagging report</title>"
            f"<style>{STYLE}</style></head><body><h1>Vehicle tagging report</h1>"
            f"{header(summary, run)}{body}</body></html>")
    path = os.path.join(output, REPORT)
    write_atomically(path, page)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report", description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True, help="the run's output folder")
    a = ap.parse_args(argv)
    if not os.path.exists(os.path.join(a.output, "summary.json")):
        print(f"report: error: no summary.json in {a.output}", file=sys.stderr)
        return 2
    print(build_report(a.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
