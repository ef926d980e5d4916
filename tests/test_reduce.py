"""The reduce transforms on TestPipeline, with exact expected values."""

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import fn_api_pipeline
from traffic.records import TaggedImage, Vehicle, WindowCount
from traffic.stats import VehicleStats
from transforms.reduce import SummariseVehicles


def image(name, camera, time, *kinds):
    vs = tuple(Vehicle(name, camera, time, k, c, 0.5, 0, 0, 10, 10) for k, c in kinds)
    return TaggedImage(name, camera, time, 640, 360, vs)


IMAGES = [
    image("a1", "east", "2026-03-10T07:01:00", ("car", "red"), ("car", "white"), ("bus", "yellow")),
    image("a2", "east", "2026-03-10T07:14:59", ("truck", "white")),
    image("a3", "east", "2026-03-10T07:15:00"),
    image("b1", "west", "2026-03-10T07:20:00", ("car", "red"), ("motorcycle", "black")),
    image("b2", "west", "2026-03-10T08:59:00", ("car", "black")),
]


def stats_of(*imgs):
    acc = VehicleStats()
    for i in imgs:
        acc.add_image(i.vehicles)
    return acc


def by_type(car=0, truck=0, bus=0, motorcycle=0):
    return {"car": car, "truck": truck, "bus": bus, "motorcycle": motorcycle}


def run(direct_num_workers=1, **kw):
    return fn_api_pipeline(direct_num_workers=direct_num_workers, **kw)


def test_per_camera_overall_and_windowed_reductions():
    east, west = stats_of(*IMAGES[:3]), stats_of(*IMAGES[3:])
    with run() as p:
        out = p | beam.Create(IMAGES) | SummariseVehicles(window_minutes=15)
        assert_that(out["per_camera"] | beam.MapTuple(lambda c, s: (c, s.to_dict())),
                    equal_to([("east", east.to_dict()), ("west", west.to_dict())]), label="cameras")
        assert_that(out["overall"] | beam.Map(VehicleStats.to_dict),
                    equal_to([stats_of(*IMAGES).to_dict()]), label="overall")
        assert_that(out["windows"], equal_to([
            WindowCount("east", "2026-03-10T07:00:00", "2026-03-10T07:15:00", 2, by_type(2, 1, 1)),
            WindowCount("east", "2026-03-10T07:15:00", "2026-03-10T07:30:00", 1, by_type()),
            WindowCount("west", "2026-03-10T07:15:00", "2026-03-10T07:30:00", 1, by_type(1, motorcycle=1)),
            WindowCount("west", "2026-03-10T08:45:00", "2026-03-10T09:00:00", 1, by_type(1)),
        ]), label="windows")
    overall = stats_of(*IMAGES).to_dict()
    assert overall["by_type"] == by_type(4, 1, 1, 1)
    assert overall["colours"]["car"] == {"white": 1, "black": 1, "red": 2}
    assert overall["per_image"]["histogram"] == {"0": 1, "1": 2, "2": 1, "3": 1}


def test_same_result_with_two_workers_in_separate_processes():
    many = [image(f"i{n}", f"cam{n % 3}", f"2026-03-10T07:{n % 60:02d}:00",
                  *[("car", "red")] * (n % 4), *[("bus", "blue")] * (n % 2)) for n in range(120)]
    expected = stats_of(*many).to_dict()
    with run(direct_num_workers=2, direct_running_mode="multi_processing") as p:
        out = p | beam.Create(many, reshuffle=True) | SummariseVehicles(window_minutes=30)
        assert_that(out["overall"] | beam.Map(VehicleStats.to_dict), equal_to([expected]))
