"""Real bundles made by actions/attest-build-provenance (tests/assets/corpus/github-attestations),
served by the fake attestations API for their subject digest and checked with ``--subject``: the
verdict must be the one the corpus' SOURCES.md gives. Verification uses the public-good trusted
root shipped with slsalint, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.github.conftest import check_json, rule_ids
from tests.github.fake import Running
from tests.github.snappy_encode import compress

SUBJECT = "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b"
SIGNER = [
    "--certificate-identity-regexp",
    "^https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@",
    "--certificate-oidc-issuer",
    "https://token.actions.githubusercontent.com",
]


@pytest.fixture
def attestations(corpus: Path) -> Path:
    return corpus / "github-attestations"


def _bundle(directory: Path, name: str) -> bytes:
    """The first (only) bundle of a corpus JSON Lines file, byte for byte."""
    lines = [line for line in (directory / name).read_bytes().splitlines() if line.strip()]
    assert len(lines) == 1
    return lines[0]


def _expected(directory: Path, name: str) -> str:
    text = (directory / "SOURCES.md").read_text(encoding="utf-8")
    section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
    return next(line for line in section.splitlines() if line.startswith("- expected:"))


def test_publish_to_bcr_attestation_passes(attestations: Path, api: Running) -> None:
    name = "bcr-publish-to-bcr.MODULE.bazel.bundle-v0.3.intoto.jsonl"
    assert _expected(attestations, name).startswith("- expected: PASS")
    api.state.add(
        "repos/aspect-build/rules_lint",
        SUBJECT,
        {"bundle": json.loads(_bundle(attestations, name)), "repository_id": 1, "bundle_url": None},
    )
    code, report = check_json(
        "--subject",
        SUBJECT,
        "--github-attestations",
        "aspect-build/rules_lint",
        "--github-api-url",
        api.api_url,
        *SIGNER,
    )
    assert code == 0, report
    assert rule_ids(report) == []
    (platform,) = report["targets"][0]["platforms"]
    (att,) = platform["attestations"]
    assert att["source"]["kind"] == "github-attestations"
    assert att["verification"]["verified"] is True
    assert att["verification"]["signer"].startswith(
        "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1"
    )


def test_wrong_signer_fails_even_from_a_snappy_bundle_url(
    attestations: Path, api: Running, storage: Running
) -> None:
    name = "FAIL-bcr-wrong-signer.MODULE.bazel.bundle-v0.3.intoto.jsonl"
    assert _expected(attestations, name).startswith("- expected: FAIL")
    storage.state.files["/bundle"] = compress(_bundle(attestations, name))
    api.state.add(
        "repos/aspect-build/rules_lint",
        SUBJECT,
        {"bundle": None, "repository_id": 1, "bundle_url": storage.url("/bundle")},
    )
    code, report = check_json(
        "--subject",
        SUBJECT,
        "--github-attestations",
        "aspect-build/rules_lint",
        "--github-api-url",
        api.api_url,
        *SIGNER,
    )
    assert code == 1
    assert ("SL203", None) in rule_ids(report)
