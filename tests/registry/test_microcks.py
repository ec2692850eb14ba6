"""The Microcks story on the real registry: a sign-only image.

Microcks builds with ``docker/build-push-action`` (``provenance: mode=max``, so BuildKit puts an
attestation manifest per platform into the index) and then signs keylessly with
``cosign sign IMAGE@INDEX-DIGEST``; it never signs the provenance itself. The gate of docs/ci.md
(``--certificate-identity-regexp`` for the repository's workflows, ``--enable
image-signature-missing``) must pass for the image signed by Microcks' workflow, and fail for the
same image signed by anyone else's workflow (a fork) or under a gate expecting another identity.

The image signature is pushed the way cosign pushes it (config blob, simple-signing layer with the
certificate, chain and Rekor bundle annotations, manifest tagged ``sha256-HEX.sig``), made with the
generated Sigstore-like PKI of ``tests/support/pki.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.images import AMD64, ARM64, build
from tests.support.pki import TestPKI
from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://token.actions.githubusercontent.com"
MICROCKS = "https://github.com/microcks/microcks/.github/workflows/build-verify.yml@refs/heads/master"
FORK = "https://github.com/someone-else/microcks/.github/workflows/build-verify.yml@refs/heads/master"
GATE = r"^https://github\.com/microcks/microcks/\.github/workflows/"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def claims(identity: str) -> dict[str, str]:
    repository = identity.removeprefix("https://github.com/").split("/.github/")[0]
    return {
        "github-workflow-trigger": "push",
        "github-workflow-sha": "5f1c4a0e9d3b2c1a0f9e8d7c6b5a493827161504",
        "github-workflow-name": "build-verify-package",
        "github-workflow-repository": repository,
        "github-workflow-ref": "refs/heads/master",
        "build-signer-uri": identity,
        "runner-environment": "github-hosted",
        "source-repository-uri": f"https://github.com/{repository}",
        "source-repository-ref": "refs/heads/master",
        "build-trigger": "push",
    }


def cosign_sign(registry: Registry, repository: str, index_digest: str, pki: TestPKI, identity: str) -> str:
    """Push what ``cosign sign REPO@INDEX-DIGEST`` pushes; return the signature tag."""
    leaf = pki.leaf(identity=identity, claims=claims(identity), key_seed=identity)
    payload, annotations = pki.cosign_sig_layer(index_digest, leaf, reference=f"{registry.host}/{repository}")
    layer_digest = registry.push_blob(repository, payload)
    config = json.dumps(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "config": {},
        }
    ).encode()
    config_digest = registry.push_blob(repository, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": len(config),
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": SIMPLE_SIGNING,
                "size": len(payload),
                "digest": layer_digest,
                "annotations": annotations,
            }
        ],
    }
    tag = index_digest.replace(":", "-") + ".sig"
    registry.push_manifest(repository, json.dumps(manifest).encode(), OCI_MANIFEST, tag)
    return tag


def microcks_image(registry: Registry, tmp_path: Path, repository: str, signer: str) -> tuple[str, str]:
    """The image index (amd64 + arm64, BuildKit mode=max provenance each) and its trusted root."""
    pki = TestPKI("microcks")
    layout, index, _ = build(tmp_path, attest={AMD64: [], ARM64: []}, name=repository.replace("/", "-"))
    registry.push_layout(layout, repository)
    cosign_sign(registry, repository, index["digest"], pki, signer)
    return index["digest"], str(pki.write_trusted_root(tmp_path))


def gate(
    reference: str, trusted_root: str, tmp_path: Path, *, identity_regexp: str = GATE
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """docs/ci.md's GitHub Actions step (text, SARIF and Markdown reports), then the same run as
    JSON for the assertions."""
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\npacks: [recommended]\n")
    common = [
        sys.executable,
        "-m",
        "slsalint",
        "check",
        reference,
        "--policy",
        str(policy),
        "--certificate-oidc-issuer",
        ISSUER,
        "--certificate-identity-regexp",
        identity_regexp,
        "--enable",
        "image-signature-missing",
        "--trusted-root",
        trusted_root,
        "--no-cache",
    ]
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path), "COLUMNS": "200"}
    step = subprocess.run(
        [
            *common,
            "--format",
            "text",
            "--format",
            f"sarif={tmp_path / 'slsalint.sarif'}",
            "--format",
            f"markdown={tmp_path / 'summary.md'}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=180,
    )
    assert "Traceback" not in step.stderr, step.stderr
    as_json = subprocess.run(
        [*common, "--format", "json"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180
    )
    assert as_json.returncode == step.returncode, (step.stdout, as_json.stdout, as_json.stderr)
    return step, json.loads(as_json.stdout)


def errors(report: dict[str, Any]) -> list[str]:
    return sorted(f["ruleId"] for t in report["targets"] for f in t["findings"] if f["level"] == "error")


def test_microcks_gate_passes_for_the_microcks_workflow(registry: Registry, tmp_path: Path) -> None:
    digest, root = microcks_image(registry, tmp_path, "microcks/microcks", MICROCKS)
    step, report = gate(registry.ref("microcks/microcks", digest=digest), root, tmp_path)
    assert step.returncode == 0, step.stdout + step.stderr
    assert errors(report) == []
    target = report["targets"][0]
    assert sorted(p["platform"] for p in target["platforms"]) == ["linux/amd64", "linux/arm64"]
    (signature,) = target["signatures"]
    assert signature["verification"]["verified"] and signature["verification"]["signer"] == MICROCKS
    assert signature["verification"]["github"]["github-workflow-repository"] == "microcks/microcks"
    assert len(signature["vouchesFor"]) == 2  # one attestation manifest per platform
    for platform in target["platforms"]:
        (provenance,) = [a for a in platform["attestations"] if a["provenance"]]
        assert provenance["provenance"]["mode"] == "max"
        assert provenance["verification"]["signer"] == MICROCKS
        assert provenance["verification"]["via"].startswith(f"image signature over index {digest}")
    text = " ".join(step.stdout.split())
    assert f"signature: image signature by {MICROCKS} (issuer {ISSUER}), log index 4242" in text
    assert "(exit 0)" in text
    sarif = json.loads((tmp_path / "slsalint.sarif").read_text())
    assert sarif["runs"][0]["results"] == []
    assert (tmp_path / "summary.md").read_text().strip()


def test_microcks_gate_fails_for_a_fork_signed_image(registry: Registry, tmp_path: Path) -> None:
    digest, root = microcks_image(registry, tmp_path, "someone-else/microcks", FORK)
    step, report = gate(registry.ref("someone-else/microcks", digest=digest), root, tmp_path)
    assert step.returncode == 1
    # The provenance counts as signed (by the fork): the one true cause is the wrong signer.
    assert errors(report) == ["SL203"]
    (finding,) = report["targets"][0]["findings"]
    assert finding["actual"] == f"{FORK} (issuer {ISSUER})"
    assert "identity does not match" in finding["message"] and FORK not in finding["message"]
    sarif = json.loads((tmp_path / "slsalint.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["SL203"]


def test_microcks_gate_expecting_another_identity_fails(registry: Registry, tmp_path: Path) -> None:
    digest, root = microcks_image(registry, tmp_path, "microcks/microcks-other", MICROCKS)
    step, report = gate(
        registry.ref("microcks/microcks-other", digest=digest),
        root,
        tmp_path,
        identity_regexp=r"^https://github\.com/microcks/microcks-uber/\.github/workflows/",
    )
    assert step.returncode == 1 and errors(report) == ["SL203"]


def test_microcks_gate_without_the_image_signature_fails(registry: Registry, tmp_path: Path) -> None:
    """The same image before `cosign sign`: nothing vouches for the BuildKit provenance."""
    layout, index, _ = build(tmp_path, attest={AMD64: [], ARM64: []}, name="unsigned")
    registry.push_layout(layout, "microcks/unsigned")
    root = str(TestPKI("microcks").write_trusted_root(tmp_path))
    step, report = gate(registry.ref("microcks/unsigned", digest=index["digest"]), root, tmp_path)
    assert step.returncode == 1
    assert errors(report) == ["SL201", "SL201", "SL205"]


def test_explain_shows_who_signed_the_image(registry: Registry, tmp_path: Path) -> None:
    digest, root = microcks_image(registry, tmp_path, "microcks/explained", MICROCKS)
    base = [sys.executable, "-m", "slsalint", "explain", registry.ref("microcks/explained", digest=digest)]
    base += ["--trusted-root", root, "--no-cache"]
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path), "COLUMNS": "250"}
    as_json = subprocess.run(
        [*base, "--format", "json"], capture_output=True, text=True, env=env, timeout=180
    )
    as_text = subprocess.run(base, capture_output=True, text=True, env=env, timeout=180)
    assert "Traceback" not in as_json.stderr + as_text.stderr
    document = json.loads(as_json.stdout)
    (sig,) = [n for n in document["tree"]["indexEvidence"] if n["kind"] == "cosign-sig"]
    assert sig["tag"] == digest.replace(":", "-") + ".sig"
    (layer,) = sig["layers"]
    assert layer["signature"]["verified"] is True
    assert layer["signature"]["signer"] == f"{MICROCKS} (issuer {ISSUER})"
    assert layer["signature"]["logIndex"] == 4242
    text = " ".join(as_text.stdout.split())
    assert f"image signature by {MICROCKS} (issuer {ISSUER}), log index 4242" in text
    assert "signed (through the image signature over the index) by" in text
