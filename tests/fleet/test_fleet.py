"""Many images: --images lists and snapshots, --jobs, --shard and `report merge`, on the real registry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint
from slsalint.fleet import Shard, report_from_document, select_shard, shard_name, shard_of
from slsalint.report import json_report
from tests.cli.test_check import sarif_validator
from tests.faults.catalogue import run
from tests.fleet.conftest import Fleet, write_list
from tests.support.proxy import proxy


def report_of(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    return document


def by_reference(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "targets": sorted(document["targets"], key=lambda t: t["reference"])}


def names(document: dict[str, Any]) -> list[str]:
    """The targets' references as listed (a tag is reported with the digest it resolved to)."""
    return [str(t["reference"]).split("@")[0] for t in document["targets"]]


def errors_of(target: dict[str, Any]) -> list[str]:
    return sorted(f["ruleId"] for f in target["findings"] if f["level"] == "error" and not f["waived"])


# -- --images and --jobs --------------------------------------------------------------------------


def test_images_list_checks_every_image_in_list_order(fleet: Fleet, tmp_path: Path) -> None:
    listed = write_list(tmp_path / "images.txt", fleet.references)
    outcome = run("check", "--images", listed, "--jobs", "4", "--format", "json", cwd=tmp_path)
    assert outcome.code == 1, outcome.stderr
    report = report_of(outcome.stdout)
    assert names(report) == fleet.references
    for name, target in zip(names(report), report["targets"], strict=True):
        assert errors_of(target) == (["SL101"] if name in fleet.failing else [])
        assert len(target["platforms"]) == 2
    assert report["summary"]["targets"] == len(fleet.references)


def test_jobs_change_nothing_in_the_report(fleet: Fleet, tmp_path: Path) -> None:
    listed = write_list(tmp_path / "images.txt", fleet.references)
    serial = run("check", "--images", listed, "--jobs", "1", "--format", "json", cwd=tmp_path)
    wide = run("check", "--images", listed, "--jobs", "16", "--format", "json", cwd=tmp_path)
    assert serial.code == wide.code == 1
    assert report_of(serial.stdout) == report_of(wide.stdout)


def test_images_from_standard_input_and_with_targets(fleet: Fleet, tmp_path: Path) -> None:
    first, *rest = fleet.references
    outcome = run(
        "check", first, "--images", "-", "--format", "json", cwd=tmp_path, stdin="\n".join([first, *rest[:3]])
    )
    report = report_of(outcome.stdout)
    assert names(report) == [first, *rest[:3]]  # each image once


@pytest.mark.parametrize("form", ["json", "yaml", "snapshot-resource"])
def test_conforma_snapshots(fleet: Fleet, tmp_path: Path, form: str) -> None:
    chosen = fleet.references[:4]
    components = [{"name": f"app{n}", "containerImage": ref} for n, ref in enumerate(chosen)]
    if form == "json":
        text = json.dumps({"application": "fleet", "components": components})
    elif form == "yaml":
        text = "application: fleet\ncomponents:\n" + "".join(
            f"  - name: app{n}\n    containerImage: {ref}\n    source: {{}}\n" for n, ref in enumerate(chosen)
        )
    else:
        text = (
            "apiVersion: appstudio.redhat.com/v1alpha1\nkind: Snapshot\nmetadata:\n  name: s1\nspec:\n"
            "  application: fleet\n  components:\n"
            + "".join(f"    - name: app{n}\n      containerImage: {ref}\n" for n, ref in enumerate(chosen))
        )
    path = tmp_path / f"snapshot.{'json' if form == 'json' else 'yaml'}"
    path.write_text(text)
    outcome = run("check", "--images", path, "--format", "json", cwd=tmp_path)
    assert outcome.code == 1, outcome.stderr  # app1 fails
    assert names(report_of(outcome.stdout)) == chosen


def _repositories_overlapping(overlaps: list[tuple[str, tuple[str, ...]]]) -> bool:
    """Whether a request for one repository arrived while one for another was being answered."""

    def repository(path: str) -> str:
        match = re.match(r"/v2/(.+?)/(?:manifests|blobs|referrers|tags)/", path)
        return match.group(1) if match else path

    return any(repository(p) != repository(other) for p, others in overlaps for other in others)


def test_jobs_read_images_at_once_through_one_client(fleet: Fleet, tmp_path: Path) -> None:
    with proxy(fleet.registry.base, latency=0.03) as (host, state):
        requests = [
            LintRequest(target=ref.replace(fleet.registry.host, host)) for ref in fleet.references[:6]
        ]
        settings = RegistrySettings(use_cache=False)
        serial = lint(requests, LintOptions(registry=settings), jobs=1)
        assert not _repositories_overlapping(state.overlaps)
        state.overlaps.clear()
        wide = lint(requests, LintOptions(registry=settings), jobs=6)
        assert _repositories_overlapping(state.overlaps)
    assert [r.target.reference for r in wide.results] == [r.target.reference for r in serial.results]
    assert [r.target.reference.split("@")[0] for r in wide.results] == [r.target for r in requests]
    assert [[f.fingerprint() for f in r.findings] for r in wide.results] == [
        [f.fingerprint() for f in r.findings] for r in serial.results
    ]


def test_judged_targets_keep_what_reports_show_and_drop_statements(fleet: Fleet) -> None:
    requests = [LintRequest(target=ref) for ref in fleet.references[:2]]
    report = lint(requests, LintOptions(registry=RegistrySettings(use_cache=False)), jobs=2)
    attestations = [a for r in report.results for p in r.target.platforms for a in p.attestations]
    assert attestations
    assert all(a.statement == {} and a.payload and a.provenance is not None for a in attestations)
    single = lint(requests[:1], LintOptions(registry=RegistrySettings(use_cache=False)))
    assert all(a.statement for p in single.results[0].target.platforms for a in p.attestations)


# -- --shard and report merge -----------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_merged_equal_one_run_finding_for_finding(fleet: Fleet, tmp_path: Path, count: int) -> None:
    listed = write_list(tmp_path / "images.txt", fleet.references)
    whole = run("check", "--images", listed, "--format", "json", cwd=tmp_path)
    parts = []
    for index in range(count):
        part = tmp_path / f"shard-{index}.json"
        outcome = run(
            "check",
            "--images",
            listed,
            "--shard",
            f"{index}/{count}",
            "--format",
            f"json={part}",
            cwd=tmp_path,
        )
        assert outcome.code in (0, 1), outcome.stderr
        parts.append(part)
    shard_targets = [names(report_of(p.read_text())) for p in parts]
    assert sorted(r for refs in shard_targets for r in refs) == sorted(fleet.references)  # each once
    merged = run("report", "merge", *parts, "--format", "json", cwd=tmp_path)
    assert merged.code == whole.code == 1
    assert report_of(merged.stdout) == by_reference(report_of(whole.stdout))
    # Given the list the shards were cut from, the merge is the one run, byte for byte.
    in_order = run("report", "merge", *parts, "--images", listed, "--format", "json", cwd=tmp_path)
    assert in_order.code == 1
    assert in_order.stdout == whole.stdout


def test_merge_writes_any_format_and_recomputes_the_exit_code(
    fleet: Fleet, tmp_path: Path, corpus: Path
) -> None:
    clean = [r for r in fleet.references if r not in fleet.failing]
    listed = write_list(tmp_path / "images.txt", clean)
    parts = []
    for index in range(2):
        part = tmp_path / f"shard-{index}.json"
        run("check", "--images", listed, "--shard", f"{index}/2", "--format", f"json={part}", cwd=tmp_path)
        parts.append(part)
    sarif = tmp_path / "merged.sarif"
    merged = run("report", "merge", *parts, "--format", f"sarif={sarif}", "--format", "text", cwd=tmp_path)
    assert merged.code == 0, merged.stderr
    assert f"{len(clean)} targets checked" in merged.stdout
    document = json.loads(sarif.read_text())
    sarif_validator(corpus).validate(document)
    assert [t.split("@")[0] for t in document["runs"][0]["properties"]["targets"]] == sorted(clean)
    # The same reports judged against a stricter gate: the exit code follows.
    warned = run("check", clean[0], "--format", "json", cwd=tmp_path)
    if report_of(warned.stdout)["summary"]["warning"]:
        strict = run("report", "merge", *parts, "--fail-on", "warning", "--format", "json", cwd=tmp_path)
        assert strict.code == 1
        assert report_of(strict.stdout)["exitCode"] == 1
        assert report_of(strict.stdout)["failOn"] == "warning"
    junit = run("report", "merge", *parts, "--format", "junit", cwd=tmp_path)
    assert junit.stdout.lstrip().startswith("<?xml") and junit.code == 0
    # What the other formats are rendered from holds everything the JSON reports hold (for
    # unsigned evidence: a JSON report keeps signers, not the signatures to verify again).
    merged_json = report_of(run("report", "merge", *parts, "--format", "json", cwd=tmp_path).stdout)
    assert json_report.document(report_from_document(merged_json)) == merged_json


def test_an_empty_shard_is_an_empty_report_merge_accepts(fleet: Fleet, tmp_path: Path) -> None:
    only = fleet.references[0]
    count = 4
    empty = next(i for i in range(count) if shard_of(only, count) != i)
    part = tmp_path / "empty.json"
    outcome = run("check", only, "--shard", f"{empty}/{count}", "--format", f"json={part}", cwd=tmp_path)
    assert outcome.code == 0
    assert "none of the 1 images falls into this shard" in outcome.stderr
    assert report_of(part.read_text())["targets"] == []
    full = tmp_path / "full.json"
    run(
        "check", only, "--shard", f"{shard_of(only, count)}/{count}", "--format", f"json={full}", cwd=tmp_path
    )
    merged = run("report", "merge", part, full, "--format", "json", cwd=tmp_path)
    assert names(report_of(merged.stdout)) == [only]


# -- shard assignment ---------------------------------------------------------------------------


def test_shard_is_decided_by_the_name_without_digest() -> None:
    digest = "sha256:" + "ab" * 32
    for count in (2, 3, 7, 64):
        assert shard_of(f"ghcr.io/acme/app:v1@{digest}", count) == shard_of("ghcr.io/acme/app:v1", count)
        assert shard_of("oci:/images/app:v1", count) == shard_of(f"oci:/images/app:v1@{digest}", count)
    # Docker Hub short forms are the same image as their long form.
    assert shard_name("alpine:3.20") == shard_name("docker.io/library/alpine:3.20")
    assert shard_name("ghcr.io/acme/app") == "ghcr.io/acme/app:latest"
    assert shard_name(f"ghcr.io/acme/app@{digest}") == "ghcr.io/acme/app"


def test_shard_assignment_is_fixed_and_partitions_the_list() -> None:
    references = [f"registry.example.com/team/app{n}:v{n % 5}" for n in range(400)]
    for count in (1, 2, 3, 8):
        shards = [select_shard(references, Shard(i, count)) for i in range(count)]
        assert sorted(r for s in shards for r in s) == sorted(references)
        assert all(len(s) > len(references) / count / 2 for s in shards)  # roughly even
    # Pinned values: the assignment must never change between releases or machines.
    assert [shard_of(f"registry.example.com/team/app{n}:v{n % 5}", 4) for n in range(8)] == PINNED_SHARDS


PINNED_SHARDS = [1, 2, 0, 0, 0, 3, 0, 3]


# -- one client for the whole run ------------------------------------------------------------------


def test_requests_in_flight_to_a_host_stay_within_the_connection_limit(fleet: Fleet) -> None:
    from slsalint.sources.limits import Limits

    with proxy(fleet.registry.base, latency=0.02) as (host, state):
        requests = [
            LintRequest(target=ref.replace(fleet.registry.host, host)) for ref in fleet.references[:4]
        ]
        settings = RegistrySettings(use_cache=False, limits=Limits(connections=3))
        lint(requests, LintOptions(registry=settings), jobs=4)
        busiest = max(len(others) + 1 for _, others in state.overlaps)
        assert 2 <= busiest <= 3  # concurrent, and never past the limit over all four images
        state.overlaps.clear()
        lint(requests, LintOptions(registry=RegistrySettings(use_cache=False)), jobs=4)
        assert max(len(others) + 1 for _, others in state.overlaps) > 3


def test_the_referrers_api_is_asked_one_way_once_the_registry_has_answered(fleet: Fleet) -> None:
    # The CNCF registry 2.8 has no referrers API (404): after the first image, the API is not
    # asked again; with the API (the proxy's), it is asked for every image. The registry lists
    # its tags, and none is a sha256-HEX fallback tag: none is asked for.
    for api in (False, True):
        with proxy(fleet.registry.base, referrers_api=api) as (host, state):
            requests = [
                LintRequest(target=r.replace(fleet.registry.host, host)) for r in fleet.references[:3]
            ]
            report = lint(requests, LintOptions(registry=RegistrySettings(use_cache=False)), jobs=1)
            by_image: dict[str, tuple[int, int]] = {}
            for path in state.requests():
                repository = path.split("/")[3] if path.startswith("/v2/") else ""
                api_asked, tags_asked = by_image.get(repository, (0, 0))
                if "/referrers/" in path:
                    api_asked += 1
                elif re.search(r"/manifests/sha256-[0-9a-f]{64}$", path):
                    tags_asked += 1
                by_image[repository] = (api_asked, tags_asked)
        first, *later = [by_image[f"app{n}"] for n in range(3)]
        assert first[0] > 0 and first[1] == 0
        if not api:  # asked for one digest; the others waited for its answer (404: no API)
            assert first[0] == 1
        for api_asked, tags_asked in later:
            assert (api_asked > 0, tags_asked) == (api, 0)
        assert all(r.target.platforms for r in report.results)
