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
    identity: str = DEFAULT_IDENTITY,
    issuer: str = DEFAULT_ISSUER,
) -> tuple[str, str]:
    """A one-platform image (BuildKit provenance, mode=max) plus cosign evidence for the index.

    attest: ``good`` (a signed .att), ``tampered`` (payload changed after signing), ``none``.
    sign: None (no .sig), ``good`` (.sig for the index), ``other`` (.sig naming another digest),
    ``platform`` (.sig for the platform manifest), ``tampered`` (.sig payload changed after
    signing), ``bundle`` (a cosign v3 ``sign`` bundle referrer over the index).
    Returns (layout reference, trusted root path).
    """
    writer = LayoutWriter(tmp_path / "image")
    image = bk.add_platform_image(writer, AMD64, seed="signed")
    att = bk.add_attestation_manifest(writer, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(writer, [image, att], ref_name="v1.0.0")
    leaf = pki.leaf(identity=identity, issuer=issuer, claims=None if identity == DEFAULT_IDENTITY else {})
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
    if sign == "bundle":
        media_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
        bundle = pki.cosign_sign_bundle(index["digest"], leaf)
        layer = writer.descriptor(json.dumps(bundle).encode(), media_type)
        empty = writer.descriptor(b"{}", "application/vnd.oci.empty.v1+json")
        referrer = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": media_type,
            "config": empty,
            "layers": [layer],
            "subject": {k: index[k] for k in ("mediaType", "digest", "size")},
        }
        writer.add_entry(
            writer.descriptor(
                writer.json_bytes(referrer),
                "application/vnd.oci.image.manifest.v1+json",
                artifact_type=media_type,
            )
        )
    elif sign is not None:
        digest = {"good": index["digest"], "tampered": index["digest"], "platform": image["digest"]}.get(
            sign, "sha256:" + "9" * 64
        )
        payload, annotations = pki.cosign_sig_layer(digest, leaf, optional=optional)
        if sign == "tampered":
            payload = payload.replace(b'"optional": {', b'"optional": {"forged": "yes"', 1)
        layer = writer.descriptor(
            payload, "application/vnd.dev.cosign.simplesigning.v1+json", annotations=annotations
        )
        tag = (image["digest"] if sign == "platform" else index["digest"]).replace(":", "-")
        writer.add_entry(_manifest(writer, [layer]), ref_name=f"{tag}.sig")
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


# -- sign-only images: the image signature over the index vouches for its attestations ------------


def attestations(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for p in report["targets"][0]["platforms"] for a in p["attestations"]]


@pytest.mark.parametrize("sign", ["good", "bundle"], ids=["cosign-sig", "cosign-v3-bundle"])
def test_sign_only_image_counts_buildkit_provenance_as_signed(
    tmp_path: Path, pki: TestPKI, sign: str
) -> None:
    """Microcks/GitLab: BuildKit provenance in the index, `cosign sign IMAGE@INDEX-DIGEST`."""
    ref, root = make_image(tmp_path, pki, attest="none", sign=sign)
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--enable", "SL205")
    assert code == 0, report
    target = report["targets"][0]
    (signature,) = target["signatures"]
    verification = signature["verification"]
    assert signature["role"] == "image" and verification["verified"] is True
    assert (verification["signer"], verification["issuer"]) == (DEFAULT_IDENTITY, DEFAULT_ISSUER)
    assert verification["logIndex"] == 4242 and verification["integratedTime"] == "2024-03-01T12:05:00+00:00"
    (provenance,) = [a for a in attestations(report) if a["provenance"]]
    assert provenance["source"]["kind"] == "buildkit-attestation-manifest"
    vouched = provenance["verification"]
    assert vouched["verified"] is True and vouched["signer"] == DEFAULT_IDENTITY
    assert vouched["via"].startswith(f"image signature over index {target['indexDigest']}")
    manifest = provenance["source"]["location"].rsplit("@", 1)[1]
    assert signature["vouchesFor"] == [manifest] and manifest in vouched["via"]


def test_sign_only_image_text_report_names_the_signer(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki, attest="none", sign="good")
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", ref, "--trusted-root", root, *KEYLESS, "--no-color"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    assert (
        f"signature: image signature by {DEFAULT_IDENTITY} (issuer {DEFAULT_ISSUER}), log index 4242" in text
    )
    assert "vouches for 1 attestation manifest(s) the index lists" in text
    assert f"signed through the image signature over the index by {DEFAULT_IDENTITY}" in text


def test_attestation_level_signatures_can_be_required(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki, attest="none", sign="good")
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrules:\n  SL201: {require-attestation-signatures: true}\n")
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--policy", str(policy))
    assert code == 1 and rule_ids(report) == {"SL201"}
    (finding,) = [f for f in report["targets"][0]["findings"] if f["ruleId"] == "SL201"]
    assert "signed only through the image signature over the index" in finding["actual"]
    # a signature on the attestation itself satisfies the option
    ref, root = make_image(tmp_path / "att", pki, attest="good", sign="good")
    code, report = check(ref, "--trusted-root", root, *KEYLESS, "--policy", str(policy))
    assert code == 0, report


def test_sign_only_image_by_the_wrong_signer_is_one_sl203(tmp_path: Path, pki: TestPKI) -> None:
    ref, root = make_image(tmp_path, pki, attest="none", sign="good")
    wanted = "^https://github\\.com/microcks/microcks/"
    code, report = check(
        ref,
        "--trusted-root",
        root,
        "--certificate-identity-regexp",
        wanted,
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    )
    assert code == 1
    findings = report["targets"][0]["findings"]
    assert [f["ruleId"] for f in findings] == ["SL203"]  # provenance counts as signed: no SL201
    (finding,) = findings
    assert (
        "image signature (it also stands for the 1 attestation manifest(s) the index lists)"
        in finding["message"]
    )
    assert finding["actual"] == f"{DEFAULT_IDENTITY} (issuer {DEFAULT_ISSUER})"
    # the identity is named once: in `actual`, not again in the message
    assert DEFAULT_IDENTITY not in finding["message"] and wanted in finding["message"]


@pytest.mark.parametrize("sign", ["platform", "tampered", "other"])
def test_only_a_verified_signature_over_the_index_vouches(tmp_path: Path, pki: TestPKI, sign: str) -> None:
    """A .sig over the platform manifest signs nothing the platform manifest does not list (it
    lists no attestations); a .sig that does not verify, or names another digest, vouches for
    nothing."""
    ref, root = make_image(tmp_path, pki, attest="none", sign=sign)
    code, report = check(ref, "--trusted-root", root, *KEYLESS)
    assert code == 1 and "SL201" in rule_ids(report)
    assert all(a["verification"] is None for a in attestations(report))
    if sign == "tampered":
        assert "SL202" in rule_ids(report)


# -- message-signature bundles over an artifact (cosign sign-blob --bundle, sigstore sign) ---------


def blob_case(tmp_path: Path, pki: TestPKI, *, identity: str = DEFAULT_IDENTITY) -> tuple[Path, Path, str]:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(b"release tarball\n")
    bundle = tmp_path / "app.tar.gz.sigstore.json"
    bundle.write_text(
        json.dumps(pki.message_bundle(artifact.read_bytes(), pki.leaf(identity=identity), version="0.3"))
    )
    return artifact, bundle, str(pki.write_trusted_root(tmp_path))


def test_message_signature_is_an_artifact_signature(tmp_path: Path, pki: TestPKI) -> None:
    artifact, bundle, root = blob_case(tmp_path, pki)
    base = ["--attestation", str(bundle), "--trusted-root", root, *KEYLESS, "--disable", "SL101"]
    code, report = check(*base, "--artifact", str(artifact), "--enable", "SL205")
    assert code == 0, report
    (signature,) = report["targets"][0]["signatures"]
    assert signature["role"] == "artifact" and signature["verification"]["verified"] is True
    assert signature["verification"]["signer"] == DEFAULT_IDENTITY
    assert signature["storedFor"] == report["targets"][0]["platforms"][0]["digest"]
    # never "not an in-toto attestation": with the recommended pack alone it is simply no provenance
    code, report = check("--attestation", str(bundle), "--trusted-root", root, "--artifact", str(artifact))
    assert rule_ids(report) == {"SL101"}


def test_message_signature_over_another_artifact(tmp_path: Path, pki: TestPKI) -> None:
    _, bundle, root = blob_case(tmp_path, pki)
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else\n")
    code, report = check(
        "--attestation",
        str(bundle),
        "--artifact",
        str(other),
        "--trusted-root",
        root,
        *KEYLESS,
        "--enable",
        "SL205",
        "--disable",
        "SL101",
    )
    assert code == 1 and rule_ids(report) == {"SL202", "SL205"}
    messages = [f["message"] for f in report["targets"][0]["findings"]]
    assert any("message signature is over sha256:" in m for m in messages)


def test_message_signature_by_the_wrong_signer(tmp_path: Path, pki: TestPKI) -> None:
    fork = "https://github.com/fork/app/.github/workflows/release.yml@refs/tags/v1.2.3"
    artifact, bundle, root = blob_case(tmp_path, pki, identity=fork)
    code, report = check(
        "--attestation",
        str(bundle),
        "--artifact",
        str(artifact),
        "--trusted-root",
        root,
        *KEYLESS,
        "--enable",
        "SL205",
        "--disable",
        "SL101",
    )
    assert code == 1 and rule_ids(report) == {"SL203"}


def test_message_signature_without_an_artifact_digest(tmp_path: Path, pki: TestPKI) -> None:
    _, bundle, root = blob_case(tmp_path, pki)
    code, report = check(
        "--attestation",
        str(bundle),
        "--trusted-root",
        root,
        *KEYLESS,
        "--enable",
        "SL205",
        "--disable",
        "SL101",
    )
    assert code == 1 and rule_ids(report) == {"SL205"}
    (finding,) = report["targets"][0]["findings"]
    assert "no verified artifact signature" in finding["message"]
    assert "--artifact FILE or --subject" in finding["message"]


# -- every true cause ---------------------------------------------------------------------------------


def test_a_dsse_signature_that_does_not_verify_is_sl202_even_when_the_payload_is_not_a_statement(
    tmp_path: Path,
) -> None:
    from tests.support.pki import dsse_envelope

    key = signing_key("p256", "release")
    (tmp_path / "good.pub").write_bytes(public_pem(key))
    envelope = dsse_envelope(b"plain text, not an in-toto statement", key, payload_type="text/plain")
    (tmp_path / "signed.json").write_text(json.dumps(envelope))
    forged = dict(envelope, payload=__import__("base64").b64encode(b"forged text").decode())
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    base = ["--subject", "sha256:" + "1" * 64, "--key", str(tmp_path / "good.pub"), "--disable", "SL101"]
    code, report = check("--attestation", str(tmp_path / "signed.json"), *base)
    assert code == 1 and rule_ids(report) == {"SL105"}
    code, report = check("--attestation", str(tmp_path / "forged.json"), *base)
    assert code == 1 and rule_ids(report) == {"SL105", "SL202"}
    (sl202,) = [f for f in report["targets"][0]["findings"] if f["ruleId"] == "SL202"]
    assert "does not verify with any given key" in sl202["message"]
    assert sl202["source"] == f"file {tmp_path / 'forged.json'}"


def test_fork_signed_generator_provenance_is_sl203_and_sl204(corpus: Path) -> None:
    """slsa-github-generator's file signed from a fork (asraa/slsa-github-generator): no log
    evidence (SL204), and the signer is the fork, not the generator (SL203), each once."""
    code, report = check(
        "--attestation",
        str(corpus / "slsa-github-generator/FAIL-untrusted-builder.dsse-legacy.intoto.jsonl"),
        "--certificate-identity-regexp",
        "^https://github\\.com/slsa-framework/slsa-github-generator/",
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    )
    assert code == 1
    findings = [f for f in report["targets"][0]["findings"] if f["level"] == "error"]
    assert sorted(f["ruleId"] for f in findings) == ["SL203", "SL204"]
    (sl203,) = [f for f in findings if f["ruleId"] == "SL203"]
    assert sl203["actual"].startswith("https://github.com/asraa/slsa-github-generator/")
    assert "asraa" not in sl203["message"] and "identity does not match" in sl203["message"]


def test_a_certificate_of_another_ca_is_sl202_chain_not_sl204(corpus: Path) -> None:
    """actions/attest provenance from a private GitHub instance, checked against public good."""
    code, report = check(
        "--attestation",
        str(
            corpus
            / "github-attestations/github-provenance-demo-0.0.12.private-github-instance.bundle-v0.3.jsonl"
        ),
        "--certificate-identity-regexp",
        ".",
        "--certificate-oidc-issuer-regexp",
        ".",
    )
    assert code == 1
    errors = {f["ruleId"] for f in report["targets"][0]["findings"] if f["level"] == "error"}
    assert errors == {"SL202"}
    messages = [f["message"] for f in report["targets"][0]["findings"] if f["ruleId"] == "SL202"]
    assert any(
        "certificate chain does not lead to the trusted root embedded:production" in m for m in messages
    )


def test_gitlab_sign_only_image_with_the_tag_annotation(tmp_path: Path, pki: TestPKI) -> None:
    """GitLab (docs/ci.md): `cosign sign --annotations tag=$CI_COMMIT_TAG IMAGE@DIGEST` with the job's
    OIDC token; the gate requires the identity, the issuer and the annotation."""
    identity = "https://gitlab.com/acme/app//.gitlab-ci.yml@refs/tags/v1.2.0"
    ref, root = make_image(
        tmp_path,
        pki,
        attest="none",
        sign="good",
        optional={"tag": "v1.2.0"},
        identity=identity,
        issuer="https://gitlab.com",
    )
    gate = [
        "--trusted-root",
        root,
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        "https://gitlab.com",
        "--enable",
        "image-signature-missing",
    ]
    code, report = check(ref, *gate, "--annotations", "tag=v1.2.0")
    assert code == 0, report
    assert all(a["verification"]["via"] for a in attestations(report) if a["provenance"])
    code, report = check(ref, *gate, "--annotations", "tag=v1.3.0")
    assert code == 1 and rule_ids(report) == {"SL206"}
