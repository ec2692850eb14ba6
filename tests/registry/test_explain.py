"""``slsalint explain``: one real-registry scenario per diagnosis, asserting the id and the fix line
a user reads, plus the corpus layouts."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, lint
from slsalint.engine import explain as engine_explain
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


def check_code(*args: str) -> int:
    """The exit code of ``slsalint check`` with the same arguments."""
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", *args, "--no-cache", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode


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
    # check passes (the platform has provenance): explain says why cosign may not, and exits 0 too
    assert code == 0 == check_code(registry.ref("ex/platform-att", "v1.0.0"))
    assert_diagnosis(document, text, "D04", "platform digests")
    [d04] = [d for d in document["diagnoses"] if d["id"] == "D04"]
    assert d04["failing"] is False and d04["verdict"].startswith("does not fail the check")


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


def test_d09_sbom_missing_fails_only_where_check_fails(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "ex/nosbom")
    ref = registry.ref("ex/nosbom", "v1.0.0")
    # the default pack does not require an SBOM: check passes, so does explain (D09 is shown)
    code, document, text = explain(ref)
    assert code == 0 == check_code(ref)
    assert_diagnosis(document, text, "D09", "--sbom=true")
    [d09] = [d for d in document["diagnoses"] if d["id"] == "D09"]
    assert d09["failing"] is False and "SL102" in d09["verdict"]
    assert document["check"]["packs"] == ["recommended"] and "check under this policy: PASS" in text
    # Docker Scout parity requires one: both fail, and D09 says it is why
    code, document, text = explain(ref, "--pack", "docker-scout")
    assert code == 1 == check_code(ref, "--pack", "docker-scout")
    [d09] = [d for d in document["diagnoses"] if d["id"] == "D09"]
    assert d09["failing"] is True and d09["verdict"] == "fails the check: SL102 error"
    assert "check under this policy: FAIL" in text
    assert any(f["ruleId"] == "SL102" and f["failing"] for f in document["check"]["findings"])


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
    ("layout", "expected", "absent", "exit_code"),
    [
        ("example-package-v1.9.0-buildkit-max", ["D09"], ["D01"], 0),
        ("example-package-v2.1.0-buildkit-min", ["D01", "D09"], [], 1),
    ],
)
def test_corpus_layouts(
    corpus: Path, layout: str, expected: list[str], absent: list[str], exit_code: int
) -> None:
    reference = f"oci:{corpus / 'oci-layouts' / layout}"
    code, document, text = explain(reference)
    assert code == exit_code == check_code(reference)
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


def _skopeo(*args: str) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed (make test installs the Debian package)")
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_d12_attestations_orphaned_by_skopeo_recompression(registry: Registry, tmp_path: Path) -> None:
    # skopeo copy --dest-compress rewrites the (uncompressed) platform manifests; the attestation
    # manifests are copied as they are and still name the old digests.
    layout, index, platforms = build(tmp_path, attest={AMD64: [], ARM64: []})
    copied = tmp_path / "copied"
    _skopeo(
        "copy", "--all", "--dest-compress", "--dest-compress-format", "gzip",
        f"oci:{layout}:v1.0.0", f"oci:{copied}:v1.0.0",
    )  # fmt: skip
    registry.push_layout(copied, "ex/recompressed")
    ref = registry.ref("ex/recompressed", "v1.0.0")
    code, document, text = explain(ref)
    assert code == 1 == check_code(ref)
    assert_diagnosis(document, text, "D12", "--preserve-digests")
    assert "D02" not in ids(document)  # the index does list attestation manifests
    orphans = document["tree"]["orphanedAttestations"]
    assert sorted(o["names"] for o in orphans) == sorted(p["digest"] for p in platforms.values())
    assert all(o["kind"] == "buildkit-attestation-manifest" for o in orphans)
    assert "orphaned: listed for manifests this index does not list" in text
    [d12] = [d for d in document["diagnoses"] if d["id"] == "D12"]
    assert d12["failing"] and "SL103 error" in d12["verdict"]
    sl103 = [f for f in document["check"]["findings"] if f["ruleId"] == "SL103"]
    assert len(sl103) == 2 and all("no longer lists" in f["message"] for f in sl103)
    # check reports them as SL103, pointing at the annotation in the index
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", ref, "--no-cache", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    findings = [
        f for t in json.loads(result.stdout)["targets"] for f in t["findings"] if f["ruleId"] == "SL103"
    ]
    assert sorted(f["actual"] for f in findings) == sorted(p["digest"] for p in platforms.values())
    assert {f["pointer"] for f in findings} == {
        f"/manifests/{i}/annotations/vnd.docker.reference.digest" for i in (2, 3)
    }
    assert all("--preserve-digests" in f["remediation"] for f in findings)
    # the fix: a copy that keeps digests keeps the attestations
    kept = tmp_path / "kept"
    _skopeo("copy", "--all", "--preserve-digests", f"oci:{layout}:v1.0.0", f"oci:{kept}:v1.0.0")
    registry.push_layout(kept, "ex/preserved")
    code, document, _ = explain(registry.ref("ex/preserved", "v1.0.0"))
    assert "D12" not in ids(document) and document["tree"]["orphanedAttestations"] == []
    assert document["tree"]["digest"] == index["digest"]


def _min(digest: str) -> dict[str, Any]:
    return bk.buildkit_v02_statement(digest, mode="min")


def _another(digest: str) -> dict[str, Any]:
    return bk.buildkit_v02_statement("sha256:" + "e" * 64)


SCENARIOS: dict[str, dict[str, Any]] = {
    # an SBOM naming another digest: SL103 only where SBOMs are read (docker-scout)
    "sbom-names-another-digest": {"attest": {AMD64: [bk.spdx_statement("sha256:" + "1" * 64)]}},
    "mode-min": {"attest": {AMD64: []}, "statement": _min},
    "no-sbom": {"attest": {AMD64: [], ARM64: []}},
    "partial": {"attest": {AMD64: [], ARM64: None}},
    "rebuilt": {"attest": {AMD64: []}, "statement": _another},
    "plain": {"attest": {AMD64: None}},
}


@pytest.mark.parametrize("pack", [None, "docker-scout", "slsa-build-l2"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_explain_exit_code_is_the_check_exit_code(tmp_path: Path, scenario: str, pack: str | None) -> None:
    layout, _, _ = build(tmp_path, **SCENARIOS[scenario])
    request = LintRequest(target=f"oci:{layout}:v1.0.0")
    options = LintOptions(packs=[pack] if pack else None)
    report = lint([request], options)
    explained = engine_explain(request, options)
    assert explained.exit_code == report.exit_code
    assert explained.report is not None
    assert sorted((f.rule_id, f.platform) for f in explained.report.findings) == sorted(
        (f.rule_id, f.platform) for f in report.findings
    )
    document = explained.to_json()
    assert document["exitCode"] == report.exit_code
    assert any(d["failing"] for d in document["diagnoses"]) <= (report.exit_code == 1)


def test_explain_reads_the_policy_check_reads(tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    policy = tmp_path / "scout.yaml"
    policy.write_text("version: 1\npacks: [docker-scout]\n")
    args = [f"oci:{layout}:v1.0.0", "--policy", str(policy)]
    code, document, _ = explain(*args)
    assert code == 1 == check_code(*args)
    assert document["check"]["packs"] == ["docker-scout"] and document["check"]["policy"] == str(policy)
    # an exception waiving SL102 makes both pass
    waivers = tmp_path / "exceptions.yaml"
    expires = datetime.date.today() + datetime.timedelta(days=60)
    waivers.write_text(
        "version: 1\nexceptions:\n  - rule: SL102\n    component: '*'\n    reason: SBOMs come in Q3\n"
        f"    owner: release@example.com\n    expires: {expires.isoformat()}\n"
    )
    code, document, _ = explain(*args, "--exceptions", str(waivers))
    assert code == check_code(*args, "--exceptions", str(waivers))
    assert [d["verdict"] for d in document["diagnoses"] if d["id"] == "D09"] == [
        "reported, does not fail the check: SL102 waived"
    ]


def test_evidence_locations_name_one_digest(registry: Registry, tmp_path: Path) -> None:
    # checked by tag, the reference resolves to REPO:main@INDEX; the attestation manifest's
    # location is REPO@MANIFEST, never REPO:main@INDEX@MANIFEST
    layout, index, _ = build(tmp_path, attest={AMD64: []}, statement=_min)
    registry.push_layout(layout, "ex/located")
    data = (layout / "blobs" / "sha256" / index["digest"].split(":")[1]).read_bytes()
    registry.push_manifest("ex/located", data, index["mediaType"], "main")
    [manifest] = [
        d["digest"]
        for d in json.loads(data)["manifests"]
        if d.get("annotations", {}).get("vnd.docker.reference.type") == "attestation-manifest"
    ]
    location = f"{registry.host}/ex/located@{manifest}"
    sarif, text = tmp_path / "out.sarif", tmp_path / "out.txt"
    result = subprocess.run(
        [
            sys.executable, "-m", "slsalint", "check", registry.ref("ex/located", "main"), "--no-cache",
            "--format", "json", "--format", f"sarif={sarif}", "--format", f"text={text}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [sl302] = [
        f for t in json.loads(result.stdout)["targets"] for f in t["findings"] if f["ruleId"] == "SL302"
    ]
    assert sl302["source"] == f"buildkit-attestation-manifest {location}"
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert f"buildkit-attestation-manifest {location}" in [r["properties"].get("source") for r in results]
    # the text report shortens digests to 12 hex digits, one digest per location all the same
    shown = "".join(text.read_text().split())
    assert f"{registry.host}/ex/located@{manifest[: len('sha256:') + 12]}" in shown
    assert f"@{index['digest'][: len('sha256:') + 12]}@" not in shown
    _, document, _ = explain(registry.ref("ex/located", "main"))
    [node] = document["tree"]["platforms"][0]["evidence"]
    assert node["location"] == location
