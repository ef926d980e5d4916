"""summary.json: assembled from the joined image counts and the reduced stats."""

import json


def build_summary(image_counts, overall, per_camera, windows, settings=None):
    """The summary document.

    image_counts: the images.* figures; overall: VehicleStats; per_camera:
    {camera: VehicleStats}; windows: WindowCount records; settings: what the
    figures depend on (tagger, window size), recorded with them.
    """
    by_camera = {}
    for w in sorted(windows, key=lambda w: (w.camera, w.start)):
        by_camera.setdefault(w.camera, []).append(
            {"start": w.start, "end": w.end, "images": w.images,
             "by_type": dict(w.by_type), "total": sum(w.by_type.values())})
    cameras = {
        camera: {"images": stats.images, "vehicles": stats.to_dict(),
                 "windows": by_camera.get(camera, [])}
        for camera, stats in sorted(per_camera.items())
    }
    summary = {"images": dict(image_counts), "vehicles": overall.to_dict(), "cameras": cameras}
    if settings:
        summary["settings"] = dict(settings)
    return summary


def dumps(summary):
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"
