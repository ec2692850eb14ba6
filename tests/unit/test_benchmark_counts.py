"""The round-trip counts the registry benchmarks report are what they claim."""

from __future__ import annotations

from benchmarks.registry_roundtrips import Timing, data_round_trips, dependent_round_trips

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def test_concurrent_requests_are_one_round_trip() -> None:
    timings: list[Timing] = [(f"/v2/r/blobs/{d}", 0.0, 1.0, ()) for d in (A, B, C)]
    assert dependent_round_trips(timings) == 1
    assert data_round_trips(timings) == 1


def test_a_chain_of_answers_is_counted_once_per_link() -> None:
    timings: list[Timing] = [
        ("/v2/r/manifests/v1", 0.0, 1.0, (A,)),  # the tag names the index
        (f"/v2/r/manifests/{A}", 1.1, 2.0, (B,)),  # the index names a manifest
        (f"/v2/r/manifests/sha256-{'a' * 64}.att", 1.1, 2.0, ()),  # a tag probe for the index
        (f"/v2/r/blobs/{B}", 2.5, 3.0, ()),
    ]
    assert dependent_round_trips(timings) == 3
    assert data_round_trips(timings) == 3


def test_queueing_counts_as_dependent_but_not_as_data() -> None:
    # Three independent blobs, one after another (one connection): three round trips waited,
    # though the data would have allowed one.
    timings: list[Timing] = [(f"/v2/r/blobs/{d}", float(n), n + 0.9, ()) for n, d in enumerate((A, B, C))]
    assert dependent_round_trips(timings) == 3
    assert data_round_trips(timings) == 1


def test_a_request_sent_before_the_answer_naming_it_is_not_its_child() -> None:
    timings: list[Timing] = [
        ("/v2/r/manifests/v1", 0.0, 1.0, (A,)),
        (f"/v2/r/manifests/{A}", 0.5, 1.5, ()),  # asked by digest from the reference itself
    ]
    assert data_round_trips(timings) == 1
    assert dependent_round_trips(timings) == 1
