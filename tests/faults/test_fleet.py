"""Fault rows for fleets: bad --images lists and snapshots, bad --shard values, reports `report
merge` must refuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.catalogue import ROOT, Fault, assert_fault, ids, run

DEMO = f"oci:{ROOT / 'examples' / 'demo-image'}"


def _list(text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = tmp / "images.txt"
        path.write_text(text)
        return ["check", "--images", str(path)]

    return make


IMAGE_LISTS: list[tuple[Fault, Callable[[Path], list[str]]]] = [
    (
        Fault("missing-list", 2, stderr=r"--images .*nope\.txt: no such file"),
        lambda tmp: ["check", "--images", str(tmp / "nope.txt")],
    ),
    (
        Fault("list-is-a-directory", 2, stderr=r"--images .*: is a directory"),
        lambda tmp: ["check", "--images", str(tmp)],
    ),
    (
        Fault("bad-reference-names-its-line", 2, stderr=r"--images .*images\.txt:3: .*malformed tag"),
        _list(f"{DEMO}\n\nghcr.io/a/b:bad!tag\n"),
    ),
    (Fault("bad-digest", 2, stderr=r"images\.txt:1: .*malformed digest"), _list("ghcr.io/a/b@sha256:abc\n")),
    (
        Fault("two-references-on-a-line", 2, stderr=r"images\.txt:2: one reference per line"),
        _list(f"{DEMO}\n{DEMO} {DEMO}\n"),
    ),
    (
        Fault("only-comments", 2, stderr=r"--images .*images\.txt: names no image"),
        _list("# nothing\n\n   # here\n"),
    ),
    (
        Fault("snapshot-without-components", 2, stderr=r"a snapshot needs a 'components' list"),
        _list('{"application": "a"}'),
    ),
    (
        Fault("snapshot-component-without-image", 2, stderr=r"components\[1\]: no containerImage"),
        _list(json.dumps({"components": [{"containerImage": DEMO}, {"name": "x"}]})),
    ),
    (Fault("snapshot-not-json", 2, stderr=r"images\.txt: not valid JSON"), _list('{"components": [')),
    (
        Fault("snapshot-bad-yaml", 2, stderr=r"images\.txt: invalid YAML"),
        _list("components:\n  - containerImage: [\n"),
    ),
    (
        Fault("snapshot-with-nan", 2, stderr=r"images\.txt: NaN is not a JSON number"),
        _list('{"components": [], "x": NaN}'),
    ),
    (
        Fault("shard-out-of-range", 2, stderr=r"--shard 3/3: K must be below N"),
        lambda tmp: ["check", DEMO, "--shard", "3/3"],
    ),
    (
        Fault("shard-not-k-of-n", 2, stderr=r"--shard 1: expected K/N"),
        lambda tmp: ["check", DEMO, "--shard", "1"],
    ),
    (
        Fault("shard-of-zero", 2, stderr=r"--shard 0/0: the shard count must be at least 1"),
        lambda tmp: ["check", DEMO, "--shard", "0/0"],
    ),
    (
        Fault("shard-with-attestation-files", 2, stderr=r"--shard applies to image TARGETs or --images"),
        lambda tmp: ["check", "-a", str(ROOT / "pyproject.toml"), "--shard", "0/2"],
    ),
    (
        Fault(
            "jobs-zero",
            2,
            stderr=r"^slsalint: error: invalid value for '--jobs' / '-j': 0 is not in the range 1<=x<=256; "
            r"see `slsalint check --help`$",
        ),
        lambda tmp: ["check", DEMO, "--jobs", "0"],
    ),
]


@pytest.mark.parametrize(("fault", "make"), IMAGE_LISTS, ids=ids([f for f, _ in IMAGE_LISTS]))
def test_image_list_faults(fault: Fault, make: Callable[[Path], list[str]], tmp_path: Path) -> None:
    assert_fault(fault, run(*make(tmp_path), cwd=tmp_path))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("demo")
    outcome = run("check", DEMO, "--format", "json", cwd=tmp)
    assert outcome.code == 0, outcome.stderr
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def _edited(edit: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def make(report: dict[str, Any]) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(report))
        edit(copy)
        return copy

    return make


def _retarget(report: dict[str, Any]) -> None:
    report["targets"][0]["reference"] = "oci:/elsewhere"


MERGES: list[tuple[Fault, Callable[[dict[str, Any]], dict[str, Any]] | str]] = [
    (
        Fault(
            "other-version",
            2,
            stderr=r"b\.json: not a slsalint\.report/v1 report \(version 'slsalint\.report/v2'\)",
        ),
        _edited(lambda r: r.update(version="slsalint.report/v2")),
    ),
    (
        Fault(
            "other-fail-on",
            2,
            stderr=r"b\.json: checked with another policy than .*a\.json \(fail-on warning instead of er",
        ),
        _edited(lambda r: r.update(failOn="warning")),
    ),
    (
        Fault(
            "other-rule-level",
            2,
            stderr=r"b\.json: checked with another policy .*rules differ: SL101 at warning",
        ),
        _edited(lambda r: [x.update(level="warning") for x in r["rules"] if x["id"] == "SL101"]),
    ),
    (
        Fault("other-tool-version", 2, stderr=r"b\.json: written by slsalint 0\.0\.1, .*a\.json by"),
        _edited(lambda r: r["tool"].update(version="0.0.1")),
    ),
    (
        Fault("same-image-twice", 2, stderr=r"b\.json: oci:.*demo-image was already checked in .*a\.json"),
        _edited(lambda r: None),
    ),
    (
        Fault(
            "not-a-report",
            2,
            stderr=r"b\.json: not a valid slsalint\.report/v1 report: /: 'exitCode' is a required property",
        ),
        _edited(lambda r: r.pop("exitCode")),
    ),
    (
        Fault(
            "wrong-type-inside",
            2,
            stderr=r"b\.json: not a valid .*/summary/error: -1 is less than the minimum of 0",
        ),
        _edited(lambda r: r["summary"].update(error=-1)),
    ),
    (Fault("not-json", 2, stderr=r"b\.json: not valid JSON"), "{"),
    (
        Fault("duplicate-keys", 2, stderr=r"b\.json: not valid JSON|b\.json: .*duplicate"),
        '{"version": "slsalint.report/v1", "version": 1',
    ),
    (Fault("a-json-array", 2, stderr=r"b\.json: not a JSON object"), "[]"),
]


@pytest.mark.parametrize(("fault", "second"), MERGES, ids=ids([f for f, _ in MERGES]))
def test_merge_faults(
    fault: Fault,
    second: Callable[[dict[str, Any]], dict[str, Any]] | str,
    demo_report: dict[str, Any],
    tmp_path: Path,
) -> None:
    first = tmp_path / "a.json"
    first.write_text(json.dumps(demo_report))
    other = tmp_path / "b.json"
    if isinstance(second, str):
        other.write_text(second)
    else:
        edited = second(demo_report)
        if fault.name not in ("same-image-twice",):
            _retarget(edited)
        other.write_text(json.dumps(edited))
    assert_fault(fault, run("report", "merge", first, other, cwd=tmp_path))


def test_merge_of_reports_that_judged_nothing(demo_report: dict[str, Any], tmp_path: Path) -> None:
    empty = {**demo_report, "targets": [], "summary": {**demo_report["summary"], "targets": 0}}
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(empty))
    fault = Fault("nothing-judged", 2, stderr=r"report merge: the 1 reports checked no image")
    assert_fault(fault, run("report", "merge", path, cwd=tmp_path))


def test_merge_of_a_missing_file(tmp_path: Path) -> None:
    fault = Fault("missing-report", 2, stderr=r"nope\.json: no such file")
    assert_fault(fault, run("report", "merge", tmp_path / "nope.json", cwd=tmp_path))


def test_merge_with_a_bad_image_list(demo_report: dict[str, Any], tmp_path: Path) -> None:
    report = tmp_path / "a.json"
    report.write_text(json.dumps(demo_report))
    fault = Fault("merge-list-missing", 2, stderr=r"--images .*nope\.txt: no such file")
    assert_fault(fault, run("report", "merge", report, "--images", tmp_path / "nope.txt", cwd=tmp_path))
    listed = tmp_path / "list.txt"
    listed.write_text("ghcr.io/a/b:bad!tag\n")
    fault = Fault("merge-list-bad-line", 2, stderr=r"--images .*list\.txt:1: .*malformed tag")
    assert_fault(fault, run("report", "merge", report, "--images", listed, cwd=tmp_path))


def test_merge_with_a_stopped_shard_never_passes(demo_report: dict[str, Any], tmp_path: Path) -> None:
    """A shard whose run stopped (here exit 3: a layout without index.json) judged none of its
    images: merged with a passing shard, the merge exits with its code and says which one."""
    passed = tmp_path / "passed.json"
    passed.write_text(json.dumps(demo_report))
    (tmp_path / "broken").mkdir()
    stopped = run("check", "oci:broken", "--format", "json=stopped.json", cwd=tmp_path)
    assert stopped.code == 3, stopped.stderr
    merged = run("report", "merge", passed, tmp_path / "stopped.json", "--format", "json", cwd=tmp_path)
    assert merged.code == 3, merged.stderr
    document = json.loads(merged.stdout)
    assert document["exitCode"] == 3 and document["error"]["kind"] == "operational"
    assert document["error"]["message"].startswith(f"{tmp_path / 'stopped.json'}: the run stopped: ")
    assert [t["reference"] for t in document["targets"]] == [t["reference"] for t in demo_report["targets"]]
    text = run("report", "merge", passed, tmp_path / "stopped.json", cwd=tmp_path)
    assert text.code == 3
