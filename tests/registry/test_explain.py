"""``slsalint explain``: one real-registry scenario per diagnosis, asserting the id and the fix line
a user reads, plus the corpus layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.support import buildkit as bk
from tests.support.images import AMD64, ARM64, add_cosign_signature, build
from tests.support.proxy import proxy
from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def explain(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run explain twice (json and text) and return (exit code, json document, text output)."""
    base = [sys.executable, "-m", "slsalint", "explain", *args, "--no-cache"]
    as_json = subprocess.run(
        [*base, "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    as_text = subprocess.run(
        base,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert as_json.returncode == as_text.returncode, (as_json.stderr, as_text.stderr)
    assert "Traceback" not in as_json.stderr + as_text.stderr
    return as_json.returncode, json.loads(as_json.stdout), as_text.stdout


def ids(document: dict[str, Any]) -> list[str]:
    return [d["id"] for d in document["diagnoses"]]


def assert_diagnosis(document: dict[str, Any], text: str, diagnosis: str, fix_contains: str) -> None:
    found = [d for d in document["diagnoses"] if d["id"] == diagnosis]
    assert found, ids(document)
    assert fix_contains in found[0]["fix"]
    assert found[0]["evidence"]
    assert f"{diagnosis} {found[0]['name']}" in text
    assert "fix: " + found[0]["fix"][:40] in " ".join(text.split())


def test_d01_mode_min(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(
        tmp_path,
        attest={AMD64: [bk.spdx_statement("sha256:" + "0" * 64)]},
        statement=lambda d: bk.buildkit_v02_statement(d, mode="min"),
    )
    registry.push_layout(layout, "ex/min")
    code, document, text = explain(registry.ref("ex/min", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D01", "--provenance=mode=max")
    statement = document["tree"]["platforms"][0]["evidence"][0]["layers"][0]["statements"][0]
    assert statement["mode"] == "min"


def test_d02_manifest_create_list(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: None, ARM64: None})
    registry.push_layout(layout, "ex/plain")
    code, document, text = explain(registry.ref("ex/plain", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D02", "docker buildx imagetools create")
    assert "no attestations" in text


def test_d03_partly_attested(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: [], ARM64: None})
    registry.push_layout(layout, "ex/partial")
    code, document, text = explain(registry.ref("ex/partial", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D03", "imagetools create")
    assert any("not attested: linux/arm64" in e for d in document["diagnoses"] for e in d["evidence"])


def test_d04_platform_digest_checked_where_the_index_was_attested(registry: Registry, tmp_path: Path) -> None:
    layout, index, platforms = build(tmp_path, attest={AMD64: None}, att_for_index=True)
    registry.push_layout(layout, "ex/index-att")
    code, document, text = explain(registry.ref("ex/index-att", digest=platforms[AMD64]["digest"]))
    assert code == 1
    assert_diagnosis(document, text, "D04", index["digest"])
    assert "D02" not in ids(document)


def test_d04_index_checked_where_platforms_were_attested(registry: Registry, tmp_path: Path) -> None:
    layout, _, platforms = build(tmp_path, attest={AMD64: None})
    writer = LayoutWriter(tmp_path / "atts")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(platforms[AMD64]["digest"]))
    bk.add_cosign_att(writer, platforms[AMD64]["digest"], [envelope], as_kind=False)
    writer.write_index()
    registry.push_layout(layout, "ex/platform-att")
    registry.push_layout(tmp_path / "atts", "ex/platform-att")
    code, document, text = explain(registry.ref("ex/platform-att", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D04", "platform digests")


def test_d05_signature_tag_is_explained(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "ex/sig")
    writer = LayoutWriter(tmp_path / "sig")
    tag = add_cosign_signature(writer, index["digest"])
    writer.write_index()
    registry.push_layout(tmp_path / "sig", "ex/sig")
    code, document, text = explain(registry.ref("ex/sig", tag))
    assert code == 1
    assert_diagnosis(document, text, "D05", f"ex/sig@{index['digest']}")
    check = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", registry.ref("ex/sig", tag), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert check.returncode == 2 and "not an image" in check.stderr and "Traceback" not in check.stderr


def test_d06_artifact_form(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []}, form="artifact")
    registry.push_layout(layout, "ex/artifact")
    code, document, text = explain(registry.ref("ex/artifact", "v1.0.0"))
    assert_diagnosis(document, text, "D06", "oci-artifact=false")
    assert [d["severity"] for d in document["diagnoses"] if d["id"] == "D06"] == ["info"]
    del code


def test_d07_no_referrers_api_and_no_fallback(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "ex/norefs")
    code, document, text = explain(registry.ref("ex/norefs", "v1.0.0"))
    assert_diagnosis(document, text, "D07", "fallback tag")
    assert document["tree"]["referrers"] == {"api": False, "fallbackTags": []}
    with proxy(registry.base, referrers_api=True) as (host, _state):
        _, with_api, _ = explain(f"{host}/ex/norefs:v1.0.0")
    assert "D07" not in ids(with_api)
    del code


def test_d08_attestations_in_another_repository(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: None})
    registry.push_layout(layout, "ex/elsewhere")
    writer = LayoutWriter(tmp_path / "atts")
    bk.add_cosign_att(
        writer, index["digest"], [bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))], as_kind=False
    )
    writer.write_index()
    registry.push_layout(tmp_path / "atts", "ex/signatures")
    code, document, text = explain(
        registry.ref("ex/elsewhere", "v1.0.0"), "--attestation-repository", f"{registry.host}/ex/signatures"
    )
    assert_diagnosis(document, text, "D08", "COSIGN_REPOSITORY=")
    del code


def test_d09_sbom_missing(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "ex/nosbom")
    code, document, text = explain(registry.ref("ex/nosbom", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D09", "--sbom=true")


def test_d10_subject_names_another_digest(registry: Registry, tmp_path: Path) -> None:
    other = "sha256:" + "e" * 64
    layout, _, _ = build(tmp_path, attest={AMD64: []}, statement=lambda d: bk.buildkit_v02_statement(other))
    registry.push_layout(layout, "ex/rebuilt")
    code, document, text = explain(registry.ref("ex/rebuilt", "v1.0.0"))
    assert code == 1
    assert_diagnosis(document, text, "D10", "attest the digest that is published")
    assert any(other in e for d in document["diagnoses"] for e in d["evidence"])


def test_clean_image_explains_with_exit_0(registry: Registry, tmp_path: Path) -> None:
    # provenance and an SBOM for every platform, classic form, registry with a referrers API
    writer = LayoutWriter(tmp_path / "full")
    manifests = []
    for platform in (AMD64, ARM64):
        image = bk.add_platform_image(writer, platform, seed=f"full{platform}")
        manifests.append(image)
        statements = [bk.buildkit_v02_statement(image["digest"]), bk.spdx_statement(image["digest"])]
        manifests.append(bk.add_attestation_manifest(writer, image, statements))
    bk.add_index(writer, manifests, ref_name="v1.0.0")
    writer.write_index()
    registry.push_layout(tmp_path / "full", "ex/clean")
    with proxy(registry.base, referrers_api=True) as (host, _state):
        code, document, text = explain(f"{host}/ex/clean:v1.0.0")
    assert code == 0, document["diagnoses"]
    assert document["diagnoses"] == []
    assert "no known cause" in text


@pytest.mark.parametrize(
    ("layout", "expected", "absent"),
    [
        ("example-package-v1.9.0-buildkit-max", ["D09"], ["D01"]),
        ("example-package-v2.1.0-buildkit-min", ["D01", "D09"], []),
    ],
)
def test_corpus_layouts(corpus: Path, layout: str, expected: list[str], absent: list[str]) -> None:
    code, document, text = explain(f"oci:{corpus / 'oci-layouts' / layout}")
    assert code == 1
    assert ids(document) == expected
    for diagnosis in absent:
        assert diagnosis not in ids(document)
    tree = document["tree"]
    # BuildKit provenance names the platform digest; the cosign .att names the index digest.
    [platform] = tree["platforms"]
    statement = platform["evidence"][0]["layers"][0]["statements"][0]
    assert statement["subjects"] == [platform["digest"]]
    [att] = tree["indexEvidence"]
    assert att["kind"] == "cosign-att"
    assert att["layers"][0]["statements"][0]["subjects"] == [tree["digest"]]
    assert "attached to the index digest" in text


def test_platform_filter_applies(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: [], ARM64: None})
    registry.push_layout(layout, "ex/filter")
    _, document, _ = explain(
        registry.ref("ex/filter", "v1.0.0"), "--platform", str(Platform("linux", "amd64"))
    )
    assert [p["platform"] for p in document["tree"]["platforms"]] == ["linux/amd64"]
    assert "D03" not in ids(document)
