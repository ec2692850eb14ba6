from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import ProvenanceMode
from slsalint.provenance import normalize, normalize_repository, split_git_uri


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def test_buildkit_v02_max(corpus: Path) -> None:
    view = normalize(load(corpus / "buildkit/example-package-v1.9.0.provenance-v02-max.intoto.json"))
    assert view is not None
    assert view.flavor == "buildkit" and view.mode is ProvenanceMode.MAX and view.slsa_version == "0.2"
    assert view.builder_id == "https://github.com/slsa-framework/example-package/actions/runs/5947345653"
    assert view.source_repository == "https://github.com/slsa-framework/example-package.git"
    assert view.source_commit == "2bcaa7495e1cbd11fbd4f598d857b3a6f18df933"
    assert "label:org.opencontainers.image.version" in view.build_args
    assert all(m.digest for m in view.materials)


def test_buildkit_v02_min(corpus: Path) -> None:
    view = normalize(load(corpus / "buildkit/example-package-v2.1.0.provenance-v02-min.intoto.json"))
    assert view is not None
    assert view.mode is ProvenanceMode.MIN and view.builder_id == ""
    assert view.source_commit == "4d329c75e7ec1725f7c9ce917a8799d408d06be3"
    assert view.build_args == {}
    assert len(view.materials) == 3


def test_buildkit_v1_max(corpus: Path) -> None:
    view = normalize(
        load(corpus / "buildkit/github-builder-test.provenance-v1-max.local-exporter.intoto.json")
    )
    assert view is not None
    assert view.flavor == "buildkit" and view.mode is ProvenanceMode.MAX and view.slsa_version == "1"
    assert view.builder_pointer == "/predicate/runDetails/builder/id"
    assert view.source_commit == "bdb96fcfe8cc9e3a54800bc2537a4d4a14f0c5fe"
    assert view.source_ref and view.source_ref.startswith("refs/")


def _first_statement(path: Path) -> dict[str, Any]:
    line = path.read_bytes().splitlines()[0]
    document = json.loads(line)
    envelope = document.get("dsseEnvelope", document)
    statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


def test_generator_v02(corpus: Path) -> None:
    view = normalize(
        _first_statement(
            corpus / "slsa-github-generator/gha_generic-v1.2.0.workflow_dispatch.dsse-legacy.intoto.jsonl"
        )
    )
    assert view is not None and view.flavor == "slsa-github-generator"
    assert view.builder_id and "generator_generic_slsa3.yml" in view.builder_id
    assert view.source_repository and "github.com/" in view.source_repository
    assert view.source_commit and len(view.source_commit) == 40
    assert view.mode is ProvenanceMode.UNKNOWN


def test_github_attest_build_provenance(corpus: Path) -> None:
    path = corpus / "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json"
    statement = json.loads(base64.b64decode(json.loads(path.read_bytes())["dsseEnvelope"]["payload"]))
    view = normalize(statement)
    assert view is not None and view.slsa_version == "1"
    assert view.source_repository and "sigstore/sigstore-js" in view.source_repository
    assert view.source_ref and view.source_ref.startswith("refs/")
    assert view.source_commit and len(view.source_commit) == 40


def test_not_provenance() -> None:
    assert normalize({"predicateType": "https://spdx.dev/Document", "predicate": {}}) is None


def test_garbage_predicate_never_raises() -> None:
    predicates: list[Any] = [None, [], "x", {"builder": "nope", "materials": {"a": 1}, "invocation": []}]
    for predicate in predicates:
        view = normalize({"predicateType": "https://slsa.dev/provenance/v0.2", "predicate": predicate})
        assert view is not None and view.builder_id is None
    view = normalize({"predicateType": "https://slsa.dev/provenance/v1", "predicate": {"buildDefinition": 3}})
    assert view is not None and view.materials == ()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("git+https://github.com/o/r@refs/heads/main", ("https://github.com/o/r", "refs/heads/main")),
        ("https://github.com/o/r.git#abc", ("https://github.com/o/r.git", "abc")),
        ("https://github.com/o/r", ("https://github.com/o/r", None)),
    ],
)
def test_split_git_uri(uri: str, expected: tuple[str, str | None]) -> None:
    assert split_git_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "https://github.com/O/r",
        "git+https://GitHub.com/O/r.git@refs/tags/v1",
        "github.com/O/r/",
        "git@github.com:O/r.git",
        "ssh://git@github.com/O/r.git",
    ],
)
def test_normalize_repository(uri: str) -> None:
    assert normalize_repository(uri) == "github.com/O/r"
