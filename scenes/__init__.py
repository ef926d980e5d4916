"""Test equipment: synthetic highway-camera frames with exact ground truth.

Not domain knowledge: no tagger imports this package, so nothing a tagger
knows can come from how these frames are drawn.  Two geometries:

- ``topdown``: a camera straight above a road that runs left to right, at a
  fixed scale (the project's first scenes);
- ``elevated``: a pinhole camera 6-15 m above a flat road, looking along it
  in perspective, with 3-D vehicles, cast shadows, changing light, sensor
  noise, occlusion, jams and (optionally) a frozen camera.

``render`` and ``make_camera`` dispatch on a camera's geometry; ``mixed``
gives each camera one of the two, drawn from the seed.
"""

from scenes import elevated, topdown

GEOMETRIES = ("top-down", "elevated", "mixed")
JPEG_QUALITY = 90  # top-down frames; elevated ones vary per frame


def camera_geometry(geometry, index):
    """The geometry of camera ``index``: ``mixed`` makes every third camera
    (the first, fourth, ...) top-down and the others elevated."""
    if geometry == "mixed":
        return "top-down" if index % 3 == 0 else "elevated"
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown geometry {geometry!r}; choose one of {', '.join(GEOMETRIES)}")
    return geometry


def make_camera(seed, index, geometry="mixed", scale=1):
    """Camera ``index`` of ``seed``; an elevated one drawn ``scale`` times
    640x360 (a sharper camera of the same scene), a top-down one at 640x360
    only."""
    if camera_geometry(geometry, index) == "top-down":
        if scale != 1:
            raise ValueError("top-down scenes are drawn at 640x360 only: "
                             "a scale above 1 needs the elevated geometry")
        return topdown.make_camera(seed, index)
    return elevated.make_camera(seed, index, scale)


def render(seed, index, frame, frames, camera, frozen_after=None):
    """One frame: (uint8 RGB pixels, timestamp, [TruthVehicle], JPEG quality).

    ``frozen_after``: from this frame index on, the camera repeats that frame's
    image (a frozen camera; its clock still runs)."""
    if frozen_after is not None and frame > frozen_after:
        pixels, _, truth, quality = render(seed, index, frozen_after, frames, camera)
        return pixels, topdown.frame_time(camera, frame, frames), truth, quality
    if camera.geometry == "top-down":
        pixels, t, truth = topdown.render_frame(seed, index, frame, frames, camera)
        return pixels, t, truth, JPEG_QUALITY
    return elevated.render_frame(seed, index, frame, frames, camera)


__all__ = ["GEOMETRIES", "camera_geometry", "make_camera", "render"]
