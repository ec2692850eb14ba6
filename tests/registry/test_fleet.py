"""Fleet's component map on a real registry: ``rancher/fleet-agent`` is built by BuildKit
(provenance that records no ref) and signed keylessly from the release workflow; the component's
``ref: "refs/tags/{tag}"`` passes for the tag the signer certificate records and fails for another
tag of the same image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.sources.layout_writer import LayoutWriter
from tests.support import buildkit as bk
from tests.support.images import AMD64, ARM64
from tests.support.pki import DEFAULT_ISSUER, TestPKI
from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
FLEET = "https://github.com/rancher/fleet"
WORKFLOW = f"{FLEET}/.github/workflows/release.yml"
CONFIG = b'{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'


def policy(tmp_path: Path, *, component_signers: bool) -> Path:
    signers = (
        "    signers:\n"
        f"      - issuer: {DEFAULT_ISSUER}\n"
        f"        identity-regexp: '^{WORKFLOW.replace('.', '[.]')}@refs/tags/'\n"
        if component_signers
        else ""
    )
    path = tmp_path / "slsalint.yaml"
    path.write_text(
        "version: 1\n"
        "components:\n"
        "  fleet-agent:\n"
        '    images: ["*/rancher/fleet-agent"]\n'
        f"    source: {FLEET}\n"
        '    ref: "refs/tags/{tag}"\n' + signers
    )
    return path


def claims(ref: str) -> dict[str, str]:
    return {
        "github-workflow-trigger": "push",
        "github-workflow-repository": "rancher/fleet",
        "github-workflow-ref": ref,
        "build-signer-uri": f"{WORKFLOW}@{ref}",
        "runner-environment": "github-hosted",
        "source-repository-uri": FLEET,
        "source-repository-digest": bk.COMMIT,
        "source-repository-ref": ref,
        "build-trigger": "push",
    }


def _manifest(writer: LayoutWriter, layer: dict[str, Any]) -> dict[str, Any]:
    config = writer.descriptor(CONFIG, "application/vnd.oci.image.config.v1+json")
    body = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }
    return writer.descriptor(writer.json_bytes(body), "application/vnd.oci.image.manifest.v1+json")


def push_fleet_agent(
    registry: Registry, tmp_path: Path, pki: TestPKI, *, signed: str, tags: list[str]
) -> None:
    """fleet-agent as the release pipeline publishes it: a two-platform index with BuildKit mode=max
    provenance (built from a local checkout: no ref recorded), pushed under ``tags``, and a keyless
    ``cosign sign`` of the index digest from the workflow run for ``signed``."""
    writer = LayoutWriter(tmp_path / "fleet-agent")
    manifests = []
    for platform in (AMD64, ARM64):
        image = bk.add_platform_image(writer, platform, seed=f"fleet-agent-{platform}")
        statement = bk.buildkit_v02_statement(image["digest"], source_uri=f"{FLEET}.git#{bk.COMMIT}")
        manifests += [image, bk.add_attestation_manifest(writer, image, [statement])]
    index = bk.add_index(writer, manifests, ref_name=tags[0])
    leaf = pki.leaf(identity=f"{WORKFLOW}@{signed}", claims=claims(signed))
    payload, annotations = pki.cosign_sig_layer(
        index["digest"], leaf, reference=f"{registry.host}/rancher/fleet-agent"
    )
    layer = writer.descriptor(
        payload, "application/vnd.dev.cosign.simplesigning.v1+json", annotations=annotations
    )
    writer.add_entry(_manifest(writer, layer), ref_name=index["digest"].replace(":", "-") + ".sig")
    writer.write_index()
    registry.push_layout(tmp_path / "fleet-agent", "rancher/fleet-agent")
    data = writer.blob_path(index["digest"]).read_bytes()
    for tag in tags[1:]:
        registry.push_manifest("rancher/fleet-agent", data, index["mediaType"], tag)


def check(reference: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", reference, "--no-cache", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(report: dict[str, Any], *rules: str) -> list[dict[str, Any]]:
    return [f for t in report["targets"] for f in t["findings"] if f["ruleId"] in rules and not f["waived"]]


@pytest.fixture
def pki() -> TestPKI:
    return TestPKI("fleet")


@pytest.mark.parametrize("component_signers", [False, True], ids=["any-signer", "component-signers"])
def test_fleet_component_ref_from_the_signer_certificate(
    registry: Registry, tmp_path: Path, pki: TestPKI, component_signers: bool
) -> None:
    push_fleet_agent(registry, tmp_path, pki, signed="refs/tags/v0.12.0", tags=["v0.12.0", "v0.12.1"])
    root = pki.write_trusted_root(tmp_path)
    args = [
        "--policy",
        str(policy(tmp_path, component_signers=component_signers)),
        "--trusted-root",
        str(root),
    ]
    if component_signers:
        # BuildKit's attestation manifests are not signed themselves (sign-only image): this gate
        # is about the ref, the signature-presence rule is judged elsewhere
        args += ["--disable", "SL201"]

    code, report = check(registry.ref("rancher/fleet-agent", "v0.12.0"), *args)
    assert findings(report, "SL401", "SL402", "SL403", "SL203") == []
    assert code == 0, [f["message"] for t in report["targets"] for f in t["findings"]]

    code, report = check(registry.ref("rancher/fleet-agent", "v0.12.1"), *args)
    assert code == 1
    found = findings(report, "SL401", "SL402")
    assert sorted((f["ruleId"], f["platform"]) for f in found) == [
        ("SL402", "linux/amd64"),
        ("SL402", "linux/arm64"),
    ]
    for finding in found:
        assert finding["expected"] == ["refs/tags/v0.12.1"] and finding["actual"] == "refs/tags/v0.12.0"
        assert finding["message"].startswith(
            "source ref 'refs/tags/v0.12.0' from source-repository-ref of the verified signer certificate "
            f"({WORKFLOW}@refs/tags/v0.12.0, issuer {DEFAULT_ISSUER}) of cosign-sig "
            f"{registry.host}/rancher/fleet-agent:sha256-"
        )
        assert finding["message"].endswith(
            "(build trigger push) is not an expected ref of component fleet-agent"
        )
        assert "components.fleet-agent.ref" in finding["remediation"]


def test_fleet_without_a_signature_nothing_vouches_for_the_ref(
    registry: Registry, tmp_path: Path, pki: TestPKI
) -> None:
    push_fleet_agent(registry, tmp_path, pki, signed="refs/tags/v0.13.0", tags=["v0.13.0"])
    # checked against another trust root, the signature does not verify: BuildKit alone records
    # no ref, which is a finding (and SL202 says why the certificate did not count)
    other = TestPKI("elsewhere").write_trusted_root(tmp_path)
    code, report = check(
        registry.ref("rancher/fleet-agent", "v0.13.0"),
        "--policy",
        str(policy(tmp_path, component_signers=False)),
        "--trusted-root",
        str(other),
    )
    assert code == 1
    found = findings(report, "SL402")
    assert len(found) == 2
    assert all(
        f["message"].startswith("no evidence records a source ref of component fleet-agent") for f in found
    )
    assert findings(report, "SL202")
