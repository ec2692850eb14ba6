"""Fuzz the fleet inputs: --images lists and snapshots, --shard values, and report merging.

Each returns its documented value or raises ConfigError with one line; nothing else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint.errors import ConfigError
from slsalint.fleet import Shard, merge_documents, read_image_list, shard_of

_lines = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["# c", "", "   ", "oci:x", "ghcr.io/a/b:v1", "a/b@sha256:" + "0" * 64, "{", "components:"]
        ),
    ),
    max_size=12,
)


@given(_lines)
def test_image_lists(lines: list[str]) -> None:
    try:
        references = read_image_list("\n".join(lines), "list.txt")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("--images list.txt")
        return
    assert len(references) == len(set(references))
    assert all(r and not any(c.isspace() for c in r) and "#" not in r for r in references)


@given(st.text(max_size=20))
def test_shard_values(text: str) -> None:
    try:
        shard = Shard.parse(text)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("--shard ")
        return
    assert 0 <= shard.index < shard.count


@given(
    st.lists(
        st.sampled_from(["oci:a", "oci:b:v1", "ghcr.io/x/y:1", "y", "ghcr.io/x/y@sha256:" + "1" * 64]),
        min_size=1,
    ),
    st.integers(1, 9),
)
def test_every_image_has_one_shard(references: list[str], count: int) -> None:
    for reference in references:
        assert 0 <= shard_of(reference, count) < count
        assert shard_of(reference, count) == shard_of(reference, count)


_finding = st.fixed_dictionaries(
    {"level": st.sampled_from(["error", "warning", "note"]), "waived": st.booleans()}
)
_target = st.fixed_dictionaries(
    {
        "reference": st.sampled_from(["oci:a", "oci:b", "oci:c", "r/x:1"]),
        "findings": st.lists(_finding, max_size=3),
    }
)
_report = st.fixed_dictionaries(
    {
        "version": st.sampled_from(["slsalint.report/v1", "slsalint.report/v2"]),
        "tool": st.fixed_dictionaries({"name": st.just("slsalint"), "version": st.sampled_from(["1", "2"])}),
        "failOn": st.sampled_from(["error", "warning"]),
        "rules": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["SL101", "SL102"]),
                    "name": st.just("n"),
                    "level": st.sampled_from(["error", "warning"]),
                    "summary": st.sampled_from(["n", "s"]),
                    "helpUri": st.sampled_from([None, "https://x"]),
                }
            ),
            max_size=2,
        ),
        "targets": st.lists(_target, max_size=3),
    }
)


@given(st.lists(_report, min_size=1, max_size=3))
def test_merges(reports: list[dict[str, Any]]) -> None:
    named = [(f"r{n}.json", r) for n, r in enumerate(reports)]
    try:
        merged = merge_documents(named)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    targets = [t for r in reports for t in r["targets"]]
    assert merged["summary"]["targets"] == len(targets) > 0
    assert [t["reference"] for t in merged["targets"]] == sorted(t["reference"] for t in targets)
    failing = any(
        not f["waived"] and _rank(f["level"]) >= _rank(merged["failOn"])
        for t in targets
        for f in t["findings"]
    )
    assert merged["exitCode"] == int(failing)
    json.dumps(merged)


def _rank(level: str) -> int:
    return {"error": 3, "warning": 2, "note": 1}[level]
