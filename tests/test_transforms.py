"""Each PTransform on TestPipeline, with assert_that on its real outputs."""

import glob
import json
import os

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from pipelines.options import TagImagesOptions
from tests import image_cases
from tests.conftest import fn_api_pipeline
from scenes import topdown as scene
from traffic.imaging import decode_image
from traffic.records import (FAILED, MISSING, TAGGED, CameraGeometry, DeadLetter, ImageRef,
                             ImageStatus, TaggedImage, Vehicle)
from transforms.join import AccountForImages, CatalogueImages, CountStatusesFn
from transforms.read import MatchImages, ReadManifest
from transforms.tag import EstimateBackgrounds, TagImages


def tag_options(*flags):
    return PipelineOptions(list(flags)).view_as(TagImagesOptions)


def test_match_images_keys_every_file_by_its_absolute_path(small_sample):
    files = sorted(glob.glob(os.path.join(small_sample, "images", "*", "*.jpg")))
    with fn_api_pipeline() as p:
        found = p | MatchImages(os.path.join(small_sample, "images", "**", "*.jpg"))
        assert_that(found, equal_to([(f, os.path.getsize(f)) for f in files]))


def test_read_manifest_csv_and_jsonl_resolve_paths_and_times(tmp_path):
    (tmp_path / "m.csv").write_text(
        "path,camera,timestamp\na/1.jpg,east,2026-03-10T07:00:00\nb/2.jpg,,2026-03-10T08:00:00+01:00\n")
    (tmp_path / "m.jsonl").write_text(json.dumps({"path": str(tmp_path / "c" / "3.jpg")}) + "\n")
    with fn_api_pipeline() as p:
        csv_refs = p | "Csv" >> ReadManifest(str(tmp_path / "m.csv"))
        json_refs = p | "Json" >> ReadManifest(str(tmp_path / "m.jsonl"))
        assert_that(csv_refs, equal_to([
            ImageRef(str(tmp_path / "a" / "1.jpg"), "east", "2026-03-10T07:00:00"),
            ImageRef(str(tmp_path / "b" / "2.jpg"), "b", "2026-03-10T07:00:00"),  # to UTC
        ]), label="csv")
        assert_that(json_refs, equal_to([ImageRef(str(tmp_path / "c" / "3.jpg"), "c", None)]),
                    label="jsonl")


def test_catalogue_joins_found_files_with_the_manifest(tmp_path):
    (tmp_path / "dir.jpg").mkdir()
    os.symlink(tmp_path / "nowhere.jpg", tmp_path / "broken.jpg")
    a, b, c = (str(tmp_path / n) for n in ("cam/a.jpg", "cam/b.jpg", "cam/c.jpg"))
    listed = [ImageRef(a, "east", "2026-03-10T07:00:00"), ImageRef(a, "east", "2026-03-10T07:00:00"),
              ImageRef(b, "east", None), ImageRef(str(tmp_path / "dir.jpg"), "x", None),
              ImageRef(str(tmp_path / "broken.jpg"), "x", None)]
    found = [(a, 10), (c, 10)]
    for strict, expected_refs in ((False, [listed[0], ImageRef(c, "cam", None)]),
                                  (True, [listed[0]])):
        with fn_api_pipeline() as p:
            refs, unreadable = ((p | "Found" >> beam.Create(found), p | "Listed" >> beam.Create(listed))
                                | CatalogueImages(True, strict))
            assert_that(refs, equal_to(expected_refs), label="refs")
            assert_that(unreadable | beam.Map(lambda d: (os.path.basename(d.image), d.stage, d.error.split(" (")[0])),
                        equal_to([("dir.jpg", "read", "is a directory, not an image file"),
                                  ("broken.jpg", "read", "broken symbolic link")]), label="dead")


def test_account_gives_every_image_exactly_one_status():
    listed = [ImageRef("/d/a.jpg", "east", "t1"), ImageRef("/d/a.jpg", "east", "t1"),
              ImageRef("/d/b.jpg", "east", "t2"),
              ImageRef("/d/m.jpg", "east", "t3")]
    found = [("/d/a.jpg", 1), ("/d/a.jpg", 1), ("/d/b.jpg", 1), ("/d/u.jpg", 1)]  # a: 2 patterns
    v = Vehicle("/d/a.jpg", "east", "t1", "car", "red", 0.9, 0, 0, 4, 2)
    tagged = [TaggedImage("/d/a.jpg", "east", "t1", 640, 360, (v, v)),
              TaggedImage("/d/u.jpg", "d", None, 640, 360, ())]
    dead = [DeadLetter("/d/b.jpg", "decode", "UnreadableImage: empty file (0 bytes)")]
    expected = [
        ImageStatus("/d/a.jpg", "east", "t1", 640, 360, 2, TAGGED, True, None, None, 2, 2),
        ImageStatus("/d/b.jpg", "east", "t2", None, None, None, FAILED, True, "decode",
                    "UnreadableImage: empty file (0 bytes)", 1, 1),
        ImageStatus("/d/m.jpg", "east", "t3", None, None, None, MISSING, True, "read",
                    "listed in the manifest but not found", 1, 0),
        ImageStatus("/d/u.jpg", "d", None, 640, 360, 0, TAGGED, False, None, None, 0, 1),
    ]
    with fn_api_pipeline() as p:
        statuses = tuple(p | name >> beam.Create(x) for name, x in
                         (("L", listed), ("F", found), ("T", tagged), ("D", dead))) | AccountForImages(True)
        assert_that(statuses, equal_to(expected), label="statuses")
        counts = statuses | beam.CombineGlobally(CountStatusesFn(True))
        assert_that(counts, equal_to([{"inputs": 3, "tagged": 2, "failed": 1, "missing": 1,
                                       "unexpected": 1, "duplicate_matches": 1, "expected": 3,
                                       "duplicate_manifest_rows": 1}]), label="counts")


def test_estimate_backgrounds_recovers_the_empty_road(small_sample):
    refs = [ImageRef(os.path.join(small_sample, "images", "cam-01", f"frame-{i:04d}.jpg"), "cam-01", None)
            for i in range(8)]
    truth = scene.make_camera(99, 0).background
    half = truth.reshape(scene.HEIGHT // 2, 2, scene.WIDTH // 2, 2, 3).mean(axis=(1, 3))

    def close_to_truth(backgrounds):
        [(camera, (road, frames, blobs, reduce))] = backgrounds
        assert camera == "cam-01" and road.shape == half.shape and frames == 8 and reduce == 2
        assert len(blobs) > 8 * 5  # the vehicles of its frames, for the camera model
        assert all(0 < u < road.shape[1] and 0 < v <= road.shape[0] for u, v, _, _ in blobs)
        err = np.abs(road.astype(float) - half).max(axis=2)
        assert np.median(err) < 4 and (err > 20).mean() < 0.01, (np.median(err), (err > 20).mean())

    with fn_api_pipeline() as p:
        assert_that(p | beam.Create(refs) | EstimateBackgrounds(samples=8), close_to_truth)


def test_tag_images_tags_good_frames_and_dead_letters_bad_ones(small_sample, tmp_path):
    good = sorted(glob.glob(os.path.join(small_sample, "images", "cam-02", "*.jpg")))
    refs = [ImageRef(g, "cam-02", None) for g in good]
    for name, (data, _) in image_cases.bad().items():
        (tmp_path / name).write_bytes(data)
        refs.append(ImageRef(str(tmp_path / name), "cam-02", None))
    refs.append(ImageRef(str(tmp_path / "gone.jpg"), "cam-02", None))
    expected_dead = {(str(tmp_path / n), "decode", words) for n, (_, words) in image_cases.bad().items()}
    expected_dead.add((str(tmp_path / "gone.jpg"), "read", "FileNotFoundError"))

    def dead_ok(dead):
        got = {(d.image, d.stage) for d in dead}
        assert got == {(i, s) for i, s, _ in expected_dead}
        for d in dead:
            words = next(w for i, s, w in expected_dead if i == d.image)
            assert words in d.error, (d.image, d.error)

    def tagged_ok(tagged):
        assert sorted(t.image for t in tagged) == good
        for t in tagged:
            assert (t.width, t.height) == (scene.WIDTH, scene.HEIGHT)
            assert t.timestamp is not None  # from EXIF: the ref had none
            assert len(t.vehicles) > 5 and all(v.image == t.image for v in t.vehicles)

    truth = scene.make_camera(99, 1).pixels_per_metre  # cam-02 of the small sample

    def camera_ok(cameras):
        [c] = cameras  # a top-down camera: parallel road lines, left to right
        assert c.camera == "cam-02" and c.vanishing_u is None and c.scale_k is None
        assert min(c.direction_deg, 180 - c.direction_deg) < 2
        assert abs(c.scale_centre / truth - 1) < 0.05, (c, truth)
        assert (c.width, c.height) == (scene.WIDTH, scene.HEIGHT) and c.marking_lines >= 2
        assert c.sample_frames == 8  # all of cam-02's readable frames
        road = decode_image(c.empty_road_jpeg)  # the empty road it was learned from
        assert (road.width, road.height) == (scene.WIDTH // 2, scene.HEIGHT // 2)

    with fn_api_pipeline() as p:
        tagged, dead, cameras = p | beam.Create(refs) | TagImages(tag_options())
        assert_that(tagged, tagged_ok, label="tagged")
        assert_that(dead, dead_ok, label="dead")
        assert_that(cameras, camera_ok, label="cameras")


def test_write_outputs_writes_every_table_and_the_summary_last(tmp_path):
    import pandas as pd
    from traffic.records import WindowCount
    from traffic.stats import VehicleStats
    from transforms.write import WriteOutputs
    v = Vehicle("/d/a.jpg", "east", "2026-03-10T07:01:00", "car", "red", 0.9, 1, 2, 41, 20)
    tagged = TaggedImage("/d/a.jpg", "east", "2026-03-10T07:01:00", 640, 360, (v,))
    status = ImageStatus("/d/a.jpg", "east", "2026-03-10T07:01:00", 640, 360, 1, TAGGED, True, None, None)
    failed = ImageStatus("/d/b.jpg", "east", None, None, None, None, FAILED, True, "decode", "bad")
    dead = DeadLetter("/d/b.jpg", "decode", "bad")
    window = WindowCount("east", "2026-03-10T07:00:00", "2026-03-10T07:15:00", 1,
                         {"car": 1, "truck": 0, "bus": 0, "motorcycle": 0})
    stats = VehicleStats().add_image((v,))
    out = str(tmp_path / "out")
    with fn_api_pipeline() as p:
        written = {
            "tagged": p | "T" >> beam.Create([tagged]),
            "statuses": p | "S" >> beam.Create([status, failed]),
            "dead": p | "D" >> beam.Create([dead]),
            "windows": p | "W" >> beam.Create([window]),
            "cameras": p | "G" >> beam.Create([CameraGeometry(
                "east", 640.0, 120.5, 95.0, 0.25, 12.5, 6, 21, 1280, 720, focal_px=800.0,
                camera_height_m=10.5, lane_centres_m=(1.8, 5.4), empty_road_jpeg=b"\xff\xd8road")]),
            "per_camera": p | "C" >> beam.Create([("east", stats)]),
            "overall": p | "O" >> beam.Create([stats]),
            "image_counts": p | "I" >> beam.Create([{"inputs": 2, "tagged": 1, "failed": 1}]),
        } | WriteOutputs(out, settings={"tagger": "background"})
        assert_that(written, equal_to([os.path.join(out, "summary.json")]))
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert summary["images"] == {"inputs": 2, "tagged": 1, "failed": 1}
    assert summary["vehicles"]["by_type"]["car"] == 1
    assert summary["cameras"]["east"]["windows"] == [
        {"start": "2026-03-10T07:00:00", "end": "2026-03-10T07:15:00", "images": 1,
         "by_type": {"car": 1, "truck": 0, "bus": 0, "motorcycle": 0}, "total": 1}]
    assert summary["settings"] == {"tagger": "background"}
    vehicles = pd.read_parquet(os.path.join(out, "vehicles"))
    assert vehicles.to_dict("records")[0]["x1"] == 41 and len(vehicles) == 1
    assert sorted(pd.read_parquet(os.path.join(out, "images"))["status"]) == ["failed", "tagged"]
    assert len(pd.read_parquet(os.path.join(out, "windows"))) == 4  # one row per type
    cameras = pd.read_parquet(os.path.join(out, "cameras")).to_dict("records")
    assert list(cameras[0].pop("lane_centres_m")) == [1.8, 5.4]
    assert cameras == [
        {"camera": "east", "vanishing_u": 640.0, "vanishing_v": 120.5, "direction_deg": 95.0,
         "scale_k": 0.25, "scale_centre": 12.5, "marking_lines": 6, "sample_frames": 21,
         "width": 1280, "height": 720, "focal_px": 800.0, "camera_height_m": 10.5,
         "empty_road_jpeg": b"\xff\xd8road"}]
    lines = [json.loads(line) for path in glob.glob(os.path.join(out, "dead_letter", "*.jsonl"))
             for line in open(path)]
    assert lines == [{"image": "/d/b.jpg", "stage": "decode", "error": "bad"}]
