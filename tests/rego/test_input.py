"""The Rego input document (``slsalint.rego-input/v1``) and the engine integration in ``lint``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, build_target, lint
from slsalint.errors import ConfigError
from slsalint.model import Level
from slsalint.rego.runtime import OpenEngine
from slsalint.rego_input import INPUT_SCHEMA, INPUT_VERSION, input_document
from slsalint.schemas import validate
from slsalint.sources.files import collect_files
from slsalint.sources.layout import collect_layout
from tests.rego.conftest import AMD64, ARM64, ORG001_MODULE, image_layout, untrusted_materials, write_rego


def documents_of(target_ref: str) -> list[dict[str, Any]]:
    target = build_target(collect_layout(target_ref))
    return [input_document(target, p, a) for p in target.platforms for a in p.attestations]


def test_layout_documents_validate_and_carry_the_context(tmp_path: Path) -> None:
    ref = image_layout(tmp_path / "image", platforms=(AMD64, ARM64))
    docs = documents_of(ref)
    assert len(docs) == 2
    for doc in docs:
        assert validate(INPUT_SCHEMA, doc) == []
        assert doc["version"] == INPUT_VERSION
        assert doc["image"]["reference"] == ref and doc["image"]["kind"] == "image"
        assert doc["image"]["indexDigest"].startswith("sha256:")
        assert doc["statement"]["predicateType"] == "https://slsa.dev/provenance/v0.2"
        assert doc["provenance"]["flavor"] == "buildkit" and doc["provenance"]["mode"] == "max"
        assert doc["provenance"]["materials"][0]["pointer"] == "/predicate/materials/0"
        assert doc["source"]["kind"] == "buildkit-attestation-manifest"
        assert doc["source"]["envelope"] == "statement"
        assert doc["verification"] == {"signed": False, "verified": False, "method": None, "signer": None}
        json.dumps(doc)  # plain JSON all the way down
    assert sorted(d["image"]["platform"] for d in docs) == ["linux/amd64", "linux/arm64"]


def test_corpus_statements_give_valid_documents(corpus: Path) -> None:
    files = sorted((corpus / "buildkit").glob("*.intoto.json")) + sorted(
        (corpus / "slsa-github-generator").glob("*.json*")
    )
    checked = 0
    for path in files:
        target = build_target(collect_files([path]))
        for platform in target.platforms:
            for attestation in platform.attestations:
                doc = input_document(target, platform, attestation)
                assert validate(INPUT_SCHEMA, doc) == [], path.name
                checked += 1
    assert checked >= 4


def test_verification_is_taken_from_signature_verification_when_present(tmp_path: Path) -> None:
    @dataclass
    class Identity:
        subject: str
        issuer: str
        key_fingerprint: str

    @dataclass
    class Verification:
        verified: bool
        method: str
        identity: Identity

    target = build_target(collect_layout(image_layout(tmp_path / "image")))
    platform = target.platforms[0]
    attestation = platform.attestations[0]
    attestation.envelope = "bundle"
    attestation.verification = Verification(
        True,
        "sigstore-bundle",
        Identity(
            "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v1",
            "https://token.actions.githubusercontent.com",
            "sha256:ab",
        ),
    )
    doc = input_document(target, platform, attestation)
    assert validate(INPUT_SCHEMA, doc) == []
    assert doc["verification"] == {
        "signed": True,
        "verified": True,
        "method": "sigstore-bundle",
        "signer": {
            "identity": "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v1",
            "issuer": "https://token.actions.githubusercontent.com",
            "keyFingerprint": "sha256:ab",
        },
    }


def test_lint_reports_rego_findings_and_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rego(rules, "images.rego", ORG001_MODULE)
    ref = image_layout(tmp_path / "image", materials=untrusted_materials(), platforms=(AMD64, ARM64))
    report = lint([LintRequest(target=ref)], LintOptions(rego=[rules]))
    org = [f for f in report.findings if f.rule_id == "ORG001"]
    assert sorted(f.platform or "" for f in org) == ["linux/amd64", "linux/arm64"]
    assert all(f.level is Level.ERROR and f.source and f.digest for f in org)
    assert [r.id for r in report.rules][-2:] == ["ORG001", "SL904"]
    assert report.exit_code == 1


def test_engine_is_closed_when_the_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    original = OpenEngine.close

    def close(self: OpenEngine) -> None:
        closed.append(True)
        original(self)

    monkeypatch.setattr(OpenEngine, "close", close)
    rules = tmp_path / "rules"
    write_rego(rules, "images.rego", ORG001_MODULE)
    with pytest.raises(ConfigError):
        lint([LintRequest(target=f"oci:{tmp_path / 'missing'}")], LintOptions(rego=[rules]))
    assert closed == [True]
    with pytest.raises(ConfigError, match="unknown rule"):
        lint(
            [LintRequest(target=f"oci:{tmp_path / 'missing'}")], LintOptions(rego=[rules], disable=["SL999"])
        )
    assert closed == [True, True]
