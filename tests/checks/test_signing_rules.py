"""SL201-SL206 end to end: OCI layouts holding cosign .att/.sig evidence signed by a generated
Sigstore-like PKI, checked with ``slsalint check`` as a user runs it."""

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
from tests.support.pki import DEFAULT_IDENTITY, DEFAULT_ISSUER, TestPKI, public_pem, signing_key

ROOT = Path(__file__).resolve().parents[2]
AMD64 = Platform("linux", "amd64")
CONFIG = b'{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'


def _manifest(writer: LayoutWriter, layers: list[dict[str, Any]]) -> dict[str, Any]:
    config = writer.descriptor(CONFIG, "application/vnd.oci.image.config.v1+json")
    body = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": layers,
    }
    return writer.descriptor(writer.json_bytes(body), "application/vnd.oci.image.manifest.v1+json")


def make_image(
    tmp_path: Path,
    pki: TestPKI,
    *,
    attest: str = "good",
    sign: str | None = None,
    optional: dict[str, str] | None = None,
) -> tuple[str, str]:
    """A one-platform image (BuildKit provenance, mode=max) plus cosign evidence for the index.

    attest: ``good`` (a signed .att), ``tampered`` (payload changed after signing), ``none``.
    sign: None (no .sig), ``good`` (.sig for the index), ``other`` (.sig naming another digest).
    Returns (layout reference, trusted root path).
    """
    writer = LayoutWriter(tmp_path / "image")
    image = bk.add_platform_image(writer, AMD64, seed="signed")
    att = bk.add_attestation_manifest(writer, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(writer, [image, att], ref_name="v1.0.0")
    leaf = pki.leaf()
    prefix = index["digest"].replace(":", "-")
    if attest != "none":
        statement = bk.buildkit_v02_statement(index["digest"])
        payload = json.dumps(statement).encode()
        blob, annotations = pki.cosign_att_layer(payload, leaf)
        if attest == "tampered":
            envelope = json.loads(blob)
            statement["predicate"]["builder"]["id"] = "https://evil.example/run"
            envelope["payload"] = __import__("base64").b64encode(json.dumps(statement).encode()).decode()
            blob = json.dumps(envelope).encode()
        annotations["predicateType"] = "https://slsa.dev/provenance/v0.2"
        layer = writer.descriptor(blob, "application/vnd.dsse.envelope.v1+json", annotations=annotations)
        writer.add_entry(_manifest(writer, [layer]), ref_name=f"{prefix}.att")
    if sign is not None:
        digest = index["digest"] if sign == "good" else "sha256:" + "9" * 64
        payload, annotations = pki.cosign_sig_layer(digest, leaf, optional=optional)
        layer = writer.descriptor(
            payload, "application/vnd.dev.cosign.simplesigning.v1+json", annotations=annotations
        )
        writer.add_entry(_manifest(writer, [layer]), ref_name=f"{prefix}.sig")
    writer.write_index()
    root = pki.write_trusted_root(tmp_path)
    return f"oci:{tmp_path / 'image'}:v1.0.0", str(root)


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", *args, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode >= 2:
        return result.returncode, {"stderr": result.stderr}
    return result.returncode, json.loads(result.stdout)


def rule_ids(report: dict[str, Any]) -> set[str]:
    return {f["ruleId"] for t in report["targets"] for f in t["findings"] if not f["waived"]}


KEYLESS = ["--certificate-identity", DEFAULT_IDENTITY, "--certificate-oidc-issuer", DEFAULT_ISSUER]


@pytest.fixture
def pki() -> TestPKI:
    return TestPKI("signing-rules")


def test_signed_by_the_expected_identity_passes_and_is_recorded(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki)
    code, report = check(ref, "--trusted-root", root, *KEYLESS)
    assert code == 0, report
    assert not rule_ids(report) & {"SL201", "SL202", "SL203", "SL204"}
    atts = [a for p in report["targets"][0]["platforms"] for a in p["attestations"] if a["verification"]]
    assert atts and atts[0]["verification"]["verified"] is True
    assert atts[0]["verification"]["signer"] == DEFAULT_IDENTITY
    assert atts[0]["verification"]["issuer"] == DEFAULT_ISSUER
    assert isinstance(atts[0]["verification"]["logIndex"], int)
    assert atts[0]["verification"]["integratedTime"]


@pytest.mark.parametrize(
    "flags",
    [
        [
            "--certificate-identity",
            "https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER,
        ],
        ["--certificate-identity", DEFAULT_IDENTITY, "--certificate-oidc-issuer", "https://gitlab.com"],
        [
            "--certificate-identity-regexp",
            "^https://github\\.com/evil/",
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER,
        ],
    ],
    ids=["wrong-identity", "wrong-issuer", "wrong-regexp"],
)
def test_wrong_signer_is_sl203(tmp_path: Path, pki: TestPKI, flags: list[str]) -> None:
    ref, root = make_image(tmp_path, pki)
    code, report = check(ref, "--trusted-root", root, *flags)
    assert code == 1
    assert "SL203" in rule_ids(report)


def test_tampered_payload_is_sl202_even_without_signers(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki, attest="tampered")
    code, report = check(ref, "--trusted-root", root)
    assert code == 1
    assert "SL202" in rule_ids(report)


def test_unsigned_provenance_with_signers_is_sl201(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki, attest="none")
    code, report = check(ref, "--trusted-root", root, *KEYLESS)
    assert code == 1
    assert "SL201" in rule_ids(report)
    # without a signer configured, unsigned BuildKit provenance is fine
    code, report = check(ref, "--trusted-root", root)
    assert "SL201" not in rule_ids(report)


def test_wrong_trust_root_fails_verification(tmp_path: Path, pki: TestPKI) -> None:
    ref, _ = make_image(tmp_path, pki)
    (tmp_path / "other").mkdir()
    other = TestPKI("someone-else").write_trusted_root(tmp_path / "other")
    code, report = check(ref, "--trusted-root", str(other), *KEYLESS)
    assert code == 1 and "SL202" in rule_ids(report)


def test_image_signature_required(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path / "a", pki, sign="good")
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--enable", "SL205")
    assert code == 0 and "SL205" not in rule_ids(report)
    ref, root = make_image(tmp_path / "b", pki, sign="other")
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--enable", "SL205")
    assert code == 1 and "SL205" in rule_ids(report)
    ref, root = make_image(tmp_path / "c", pki)
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--enable", "SL205")
    assert code == 1 and "SL205" in rule_ids(report)


def test_required_annotations(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path / "a", pki, sign="good", optional={"tag": "v1.2"})
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--annotations", "tag=v1.2")
    assert code == 0 and "SL206" not in rule_ids(report)
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--annotations", "tag=v1.3")
    assert code == 1 and "SL206" in rule_ids(report)
    ref, root = make_image(tmp_path / "b", pki)
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--annotations", "tag=v1.2")
    assert code == 1 and "SL206" in rule_ids(report)


def test_keyed_dsse_file(tmp_path: Path) -> None:
    from tests.support.pki import dsse_envelope

    key = signing_key("p256", "release")
    statement = bk.buildkit_v02_statement("sha256:" + "1" * 64)
    envelope = dsse_envelope(json.dumps(statement).encode(), key)
    (tmp_path / "prov.json").write_text(json.dumps(envelope))
    (tmp_path / "good.pub").write_bytes(public_pem(key))
    (tmp_path / "bad.pub").write_bytes(public_pem(signing_key("p256", "intruder")))
    base = ["--attestation", str(tmp_path / "prov.json"), "--subject", "sha256:" + "1" * 64]
    code, report = check(*base, "--key", str(tmp_path / "good.pub"))
    assert code == 0, report
    code, report = check(*base, "--key", str(tmp_path / "bad.pub"))
    assert code == 1 and rule_ids(report) & {"SL202", "SL203"}


def test_signers_in_the_policy_file(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki)
    policy = tmp_path / "slsalint.yaml"
    policy.write_text(
        "version: 1\nsigners:\n"
        "  - issuer: https://token.actions.githubusercontent.com\n"
        "    identity-regexp: '^https://github\\.com/other/'\n"
        f"  - issuer: {DEFAULT_ISSUER}\n    identity: {DEFAULT_IDENTITY}\n"
    )
    code, report = check(ref, "--trusted-root", root, "--policy", str(policy))
    assert code == 0 and "SL203" not in rule_ids(report)
    policy.write_text("version: 1\nsigners:\n  - issuer: https://token.actions.githubusercontent.com\n")
    code, report = check(ref, "--trusted-root", root, "--policy", str(policy))
    assert code == 2 and "identity" in report["stderr"]


def test_unusable_trusted_root_is_exit_3(tmp_path: Path, pki: TestPKI) -> None:
    ref, _ = make_image(tmp_path, pki)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, report = check(ref, "--trusted-root", str(broken), *KEYLESS)
    assert code == 3 and report["stderr"].count("\n") == 1


def test_bundle_over_the_attestation_manifest_signs_its_provenance(tmp_path: Path, pki: TestPKI) -> None:
    """Docker's GitHub builder signs the BuildKit attestation manifest (cosign v3 referrer)."""
    from tests.support.pki import statement as signed_statement

    def build(with_bundle: bool, name: str) -> tuple[str, str]:
        writer = LayoutWriter(tmp_path / name)
        image = bk.add_platform_image(writer, AMD64, seed="builder")
        att = bk.add_attestation_manifest(
            writer, image, [bk.buildkit_v02_statement(image["digest"])], form="artifact"
        )
        bk.add_index(writer, [image, att], ref_name="v1.0.0")
        if with_bundle:
            payload = json.dumps(
                signed_statement(
                    att["digest"].split(":")[1], predicate_type="https://sigstore.dev/cosign/sign/v1"
                )
            ).encode()
            bundle = pki.intoto_bundle(payload, pki.leaf())
            media_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
            layer = writer.descriptor(json.dumps(bundle).encode(), media_type)
            empty = writer.descriptor(b"{}", "application/vnd.oci.empty.v1+json")
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": media_type,
                "config": empty,
                "layers": [layer],
                "subject": {k: att[k] for k in ("mediaType", "digest", "size")},
            }
            referrer = writer.descriptor(
                writer.json_bytes(manifest),
                "application/vnd.oci.image.manifest.v1+json",
                artifact_type=media_type,
            )
            writer.add_entry(referrer)
        writer.write_index()
        return f"oci:{tmp_path / name}:v1.0.0", str(pki.write_trusted_root(tmp_path))

    ref, root = build(True, "signed")
    code, report = check(ref, "--trusted-root", root, *KEYLESS)
    assert code == 0, report
    assert not rule_ids(report) & {"SL201", "SL202", "SL203"}
    ref, root = build(False, "unsigned")
    code, report = check(ref, "--trusted-root", root, *KEYLESS)
    assert code == 1 and "SL201" in rule_ids(report)


def test_unusable_key_files_are_exit_2_before_anything_is_checked(tmp_path: Path) -> None:
    # Nothing signed in this run: the key would never be used, and must still be refused.
    statement = tmp_path / "prov.json"
    statement.write_text(json.dumps(bk.buildkit_v02_statement("sha256:" + "2" * 64)))
    (tmp_path / "garbage.pub").write_text("not a key\n")
    base = ["check", "--attestation", str(statement), "--subject", "sha256:" + "2" * 64]
    policies = {
        "top.yaml": ("version: 1\nsigners:\n  - key: garbage.pub\n", ":3: signers[0]: key "),
        "missing.yaml": ("version: 1\nsigners:\n  - key: missing.pub\n", ":3: signers[0]: key "),
        "component.yaml": (
            "version: 1\ncomponents:\n  app:\n    images: ['*']\n    signers:\n      - key: garbage.pub\n",
            ":6: components.app.signers[0]: key ",
        ),
    }
    for name, (text, message) in policies.items():
        (tmp_path / name).write_text(text)
        result = subprocess.run(
            [sys.executable, "-m", "slsalint", *base, "--policy", str(tmp_path / name)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert f"{tmp_path / name}{message}" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", *base, "--key", str(tmp_path / "garbage.pub")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert (
        result.returncode == 2
        and f"--key {tmp_path / 'garbage.pub'}: not a PEM or DER public key" in result.stderr
    )
