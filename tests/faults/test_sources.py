"""Fault rows for the source rules and explain: indexes whose attestation manifests name nothing
they list, malformed reference digests and annotations, and explain given a bad policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import OCI_INDEX
from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import buildkit as bk
from tests.support.images import AMD64


def _layout(tmp_path: Path, edit: Callable[[dict[str, Any]], None], **statement: Any) -> str:
    """A one-platform index with BuildKit provenance; ``edit`` changes the index document."""
    writer = LayoutWriter(tmp_path / "image")
    image = bk.add_platform_image(writer, AMD64, seed="faults")
    attestation = bk.add_attestation_manifest(
        writer, image, [bk.buildkit_v02_statement(image["digest"], **statement)]
    )
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [image, attestation]}
    edit(document)
    writer.add_entry(writer.descriptor(writer.json_bytes(document), OCI_INDEX), ref_name="v1")
    writer.write_index()
    return f"oci:{tmp_path / 'image'}:v1"


def _orphan(document: dict[str, Any]) -> None:
    document["manifests"][1]["annotations"]["vnd.docker.reference.digest"] = "sha256:" + "7" * 64


def _malformed_reference(document: dict[str, Any]) -> None:
    document["manifests"][1]["annotations"]["vnd.docker.reference.digest"] = "sha256:not-a-digest"


def _numeric_source(document: dict[str, Any]) -> None:
    document["annotations"] = {
        "org.opencontainers.image.source": 1234,
        "org.opencontainers.image.revision": [],
    }


def _annotations_not_an_object(document: dict[str, Any]) -> None:
    document["annotations"] = ["org.opencontainers.image.source", "https://github.com/example/app"]


LOCAL_BUILD = {"source_uri": None, "commit": None}
"""BuildKit provenance of a local build: no repository, no commit."""

CHECK_ROWS: list[tuple[Fault, Callable[[dict[str, Any]], None], dict[str, Any], list[str]]] = [
    (
        Fault("orphaned-attestation-manifest", 1, finding="SL103", message="no longer lists"),
        _orphan,
        {},
        [],
    ),
    (
        Fault("orphaned-attestation-manifest-no-provenance", 1, finding="SL101"),
        _orphan,
        {},
        [],
    ),
    (
        Fault(
            "malformed-reference-digest",
            1,
            finding="SL105",
            message="malformed vnd.docker.reference.digest 'sha256:not-a-digest'",
        ),
        _malformed_reference,
        {},
        [],
    ),
    (
        Fault(
            "non-string-source-annotation-is-a-malformed-manifest",
            3,
            stderr=r"cannot read the image: .*annotation 'org.opencontainers.image.source' is a number, "
            r"not a string$",
        ),
        _numeric_source,
        LOCAL_BUILD,
        ["--enable", "SL401"],
    ),
    (
        Fault(
            "annotations-not-an-object-is-a-malformed-manifest",
            3,
            stderr=r"cannot read the image: .*'annotations' is a list, not an object$",
        ),
        _annotations_not_an_object,
        LOCAL_BUILD,
        [],
    ),
]


@pytest.mark.parametrize(
    ("fault", "edit", "statement", "extra"), CHECK_ROWS, ids=ids([r[0] for r in CHECK_ROWS])
)
def test_check_rows(
    tmp_path: Path,
    fault: Fault,
    edit: Callable[[dict[str, Any]], None],
    statement: dict[str, Any],
    extra: list[str],
) -> None:
    reference = _layout(tmp_path, edit, **statement)
    policy = tmp_path / "slsalint.yaml"
    policy.write_text(
        json.dumps({"version": 1, "rules": {"SL401": {"repositories": ["github.com/example/app"]}}})
    )
    assert_fault(fault, run("check", reference, "--policy", policy, "--format", "json", *extra, cwd=tmp_path))


EXPLAIN_ROWS = [
    (
        Fault("explain-policy-missing", 2, stderr=r"^slsalint: error: .*missing\.yaml: no such policy file$"),
        ["--policy", "missing.yaml"],
    ),
    (
        Fault("explain-fail-on-unknown", 2, stderr=r"--fail-on bogus: expected error, warning or note"),
        ["--fail-on", "bogus"],
    ),
    (Fault("explain-pack-unknown", 2, stderr=r"unknown pack 'nope'"), ["--pack", "nope"]),
    (
        Fault("explain-exceptions-directory", 2, stderr=r"is a directory, not a regular file"),
        ["--exceptions", "."],
    ),
    (Fault("explain-key-missing", 2, stderr=r"--key .*: no such file"), ["--key", "missing.pub"]),
]


@pytest.mark.parametrize(("fault", "args"), EXPLAIN_ROWS, ids=ids([r[0] for r in EXPLAIN_ROWS]))
def test_explain_rows(tmp_path: Path, fault: Fault, args: list[str]) -> None:
    reference = _layout(tmp_path, lambda _: None)
    assert_fault(fault, run("explain", reference, *args, cwd=tmp_path))


def test_explain_orphans_exit_as_check_does(tmp_path: Path) -> None:
    reference = _layout(tmp_path, _orphan)
    explained = run("explain", reference, "--format", "json", cwd=tmp_path)
    checked = run("check", reference, "--format", "json", cwd=tmp_path)
    assert explained.code == checked.code == 1
    document = json.loads(explained.stdout)
    assert [d["id"] for d in document["diagnoses"] if d["failing"]] == ["D12"]


def test_explain_survives_a_malformed_index_next_to_the_image(tmp_path: Path) -> None:
    # explain looks for the indexes that list a platform manifest (D04); an index whose
    # "manifests" is not a list is skipped, not a crash
    writer = LayoutWriter(tmp_path / "image")
    image = bk.add_platform_image(writer, AMD64, seed="lonely")
    writer.add_entry(image, ref_name="platform")
    broken = writer.descriptor(writer.json_bytes({"schemaVersion": 2, "manifests": 5}), OCI_INDEX)
    writer.add_entry(broken, ref_name="broken")
    writer.write_index()
    fault = Fault("explain-malformed-parent-index", 1, finding=None)
    outcome = run("explain", f"oci:{tmp_path / 'image'}:platform", "--format", "json", cwd=tmp_path)
    assert_fault(fault, outcome)
    assert "D02" in [d["id"] for d in json.loads(outcome.stdout)["diagnoses"]]
