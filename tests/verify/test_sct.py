"""Embedded SCTs (RFC 6962) of Fulcio certificates on slsalint's own verification path: the test
PKI's SCTs, every failure knob through the library and the CLI, real corpus certificates, and
sigstore-python's ``verify_sct`` as a cross-check."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.certificate_transparency import LogEntryType

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.verify.bundle import verify_bundle
from slsalint.verify.chain import chain_problem
from slsalint.verify.cosign import verify_cosign_layer
from slsalint.verify.result import SIGNATURE_INVALID, TLOG_MISSING, Verification
from slsalint.verify.sct import (
    NO_SCT,
    SCT_INVALID,
    SCT_LIST_OID,
    embedded_scts,
    issuer_certificate,
    sct_problem,
    signed_data,
)
from slsalint.verify.trust import TrustRoot
from tests.support import buildkit as bk
from tests.support.pki import T0, Leaf, SctKind, TestPKI, b64
from tests.verify.conftest import DIGEST

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_GOOD = "trust-roots/sigstore-public-good.production.trusted_root.json"
STAGING = "trust-roots/sigstore-staging.trusted_root.json"
IMAGE = "sha256:" + "12" * 32

KNOBS: list[tuple[SctKind | None, str]] = [
    (None, NO_SCT),
    ("unknown-log", f"{SCT_INVALID}: SCT is from an unknown CT log"),
    ("bad-signature", f"{SCT_INVALID}: signature of the SCT from https://ctfe.test does not verify"),
    ("other-certificate", f"{SCT_INVALID}: signature of the SCT from https://ctfe.test does not verify"),
]
KNOB_IDS = ["no-sct", "unknown-log", "bad-signature", "other-certificate"]


def root_from(document: dict[str, Any], source: str = "test root") -> TrustRoot:
    return TrustRoot.from_json(json.dumps(document).encode(), source=source)


def sct_failure(result: Verification, expected: str) -> None:
    assert not result.verified
    assert result.rule_ids == {SIGNATURE_INVALID}, result.problems
    assert any(p.message.startswith(expected) for p in result.problems), result.problems


# -- the test PKI's SCTs ------------------------------------------------------------------------------


def test_leaf_carries_one_sct_over_its_precertificate(pki: TestPKI, leaf: Leaf) -> None:
    certificate = leaf.certificate
    reloaded = x509.load_der_x509_certificate(leaf.der)
    assert leaf.precertificate_tbs is not None
    assert certificate.tbs_precertificate_bytes == leaf.precertificate_tbs
    assert reloaded.tbs_precertificate_bytes == leaf.precertificate_tbs
    assert certificate.tbs_certificate_bytes != leaf.precertificate_tbs
    assert certificate.extensions[-1].oid == SCT_LIST_OID
    scts = embedded_scts(reloaded)
    assert scts is not None and len(scts) == 1
    (sct,) = scts
    assert sct.log_id == pki.ct_log_id
    assert sct.entry_type == LogEntryType.PRE_CERTIFICATE
    assert sct.timestamp.replace(tzinfo=UTC) == T0
    assert isinstance(sct.signature_hash_algorithm, hashes.SHA256)
    # the signed structure is rebuilt exactly: the CT log key verifies it
    pki.ct_key.public_key().verify(
        sct.signature, signed_data(sct, certificate, pki.intermediate_cert), ec.ECDSA(hashes.SHA256())
    )


def test_trusted_root_lists_the_ct_log_apart_from_the_rekor_log(pki: TestPKI, trust: TrustRoot) -> None:
    assert [key.log_id for key in trust.ctlogs] == [pki.ct_log_id]
    assert trust.ct_log_key(pki.ct_log_id) is trust.ctlogs[0]
    assert trust.ct_log_key(pki.log_id) is None
    assert trust.log_key(pki.ct_log_id) is None


def test_knobs_shape_the_embedded_scts(pki: TestPKI) -> None:
    assert embedded_scts(pki.leaf(sct=None).certificate) is None
    unknown = embedded_scts(pki.leaf(sct="unknown-log").certificate)
    assert unknown is not None and unknown[0].log_id != pki.ct_log_id
    several = embedded_scts(pki.leaf(sct=("unknown-log", "valid")).certificate)
    assert several is not None and [s.log_id == pki.ct_log_id for s in several] == [False, True]


# -- sct_problem ------------------------------------------------------------------------------------------


def test_valid_sct(trust: TrustRoot, leaf: Leaf) -> None:
    assert sct_problem(leaf.certificate, trust) is None


@pytest.mark.parametrize(("knob", "message"), KNOBS, ids=KNOB_IDS)
def test_each_knob_is_a_problem(pki: TestPKI, trust: TrustRoot, knob: SctKind | None, message: str) -> None:
    why = sct_problem(pki.leaf(sct=knob).certificate, trust)
    assert why is not None and why.startswith(message), why


def test_at_least_one_sct_must_verify(pki: TestPKI, trust: TrustRoot) -> None:
    assert sct_problem(pki.leaf(sct=("unknown-log", "valid")).certificate, trust) is None
    assert sct_problem(pki.leaf(sct=("bad-signature", "valid")).certificate, trust) is None
    why = sct_problem(pki.leaf(sct=("unknown-log", "bad-signature")).certificate, trust)
    assert why is not None and why.startswith(SCT_INVALID)
    assert "unknown CT log" in why and "does not verify over this certificate" in why


def test_trusted_root_without_ct_logs_fails_closed(pki: TestPKI, leaf: Leaf) -> None:
    why = sct_problem(leaf.certificate, root_from(pki.trusted_root(ctlogs=False)))
    assert why is not None and why.startswith(SCT_INVALID)
    assert "lists no CT log" in why and "fails closed" in why


@pytest.mark.parametrize(
    ("window", "ok"),
    [
        ((datetime(2020, 1, 1, tzinfo=UTC), None), True),
        ((T0, T0), True),
        ((T0 + timedelta(days=1), None), False),
        ((datetime(2020, 1, 1, tzinfo=UTC), T0 - timedelta(seconds=1)), False),
    ],
    ids=["open", "exactly-then", "not-yet", "expired"],
)
def test_ct_log_key_validity_window_applies_to_the_sct_time(
    pki: TestPKI, leaf: Leaf, window: tuple[datetime, datetime | None], ok: bool
) -> None:
    why = sct_problem(leaf.certificate, root_from(pki.trusted_root(ct_window=window)))
    if ok:
        assert why is None
    else:
        assert why is not None and "outside the log key's validity" in why


def test_sct_dated_before_the_ct_log_key_was_valid(pki: TestPKI) -> None:
    trust = root_from(pki.trusted_root(ct_window=(T0 - timedelta(days=1), None)))
    assert sct_problem(pki.leaf(sct_time=T0 - timedelta(hours=1)).certificate, trust) is None
    why = sct_problem(pki.leaf(sct_time=T0 - timedelta(days=2)).certificate, trust)
    assert why is not None and why.startswith(SCT_INVALID) and "outside the log key's validity" in why


def test_ct_log_is_found_by_the_hash_of_its_key_when_the_root_gives_another_log_id(
    pki: TestPKI, leaf: Leaf
) -> None:
    document = pki.trusted_root()
    document["ctlogs"][0]["logId"] = {"keyId": b64(b"\x01" * 32)}
    assert sct_problem(leaf.certificate, root_from(document)) is None


def _root_without_intermediate(pki: TestPKI) -> dict[str, Any]:
    document = pki.trusted_root()
    chain = document["certificateAuthorities"][0]["certChain"]["certificates"]
    document["certificateAuthorities"][0]["certChain"]["certificates"] = chain[1:]
    return document


def test_issuer_may_be_an_intermediate_shipped_with_the_signature(pki: TestPKI, leaf: Leaf) -> None:
    trust = root_from(_root_without_intermediate(pki))
    untrusted = [pki.intermediate_cert]
    assert chain_problem(leaf.certificate, trust, T0, untrusted=untrusted) is None
    assert issuer_certificate(leaf.certificate, trust, untrusted) == pki.intermediate_cert
    assert sct_problem(leaf.certificate, trust, untrusted) is None
    why = sct_problem(leaf.certificate, trust)
    assert why is not None and "is not known" in why


def test_issuer_must_have_signed_the_leaf(pki: TestPKI, other_pki: TestPKI, leaf: Leaf) -> None:
    """A certificate with the issuer's name but another key is not the issuer: its key hash would
    not be the one the CT log signed."""
    impostor = other_pki._ca_cert(
        other_pki.intermediate_key,
        pki.intermediate_cert.subject,
        other_pki.root_key,
        other_pki.root_cert.subject,
        77,
        path_length=0,
    )
    trust = root_from(_root_without_intermediate(pki))
    untrusted = [impostor, pki.intermediate_cert]
    assert issuer_certificate(leaf.certificate, trust, untrusted) == pki.intermediate_cert
    assert sct_problem(leaf.certificate, trust, untrusted) is None
    # and an SCT rebuilt with the impostor's key hash does not verify
    scts = embedded_scts(leaf.certificate)
    assert scts is not None
    with pytest.raises(InvalidSignature):
        pki.ct_key.public_key().verify(
            scts[0].signature, signed_data(scts[0], leaf.certificate, impostor), ec.ECDSA(hashes.SHA256())
        )


# -- through the public verification API ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.1", "0.2", "0.3"])
def test_intoto_bundle_with_a_valid_sct_verifies(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, version: str
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf, version=version), trust, artifact_digest=DIGEST)  # type: ignore[arg-type]
    assert result.verified, result.problems


@pytest.mark.parametrize(("knob", "message"), KNOBS, ids=KNOB_IDS)
def test_intoto_bundle_sct_failures(
    pki: TestPKI, trust: TrustRoot, payload: bytes, knob: SctKind | None, message: str
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, pki.leaf(sct=knob)), trust, artifact_digest=DIGEST)
    sct_failure(result, message)


def test_intoto_bundle_against_a_root_without_ct_logs(pki: TestPKI, leaf: Leaf, payload: bytes) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf), root_from(pki.trusted_root(ctlogs=False)))
    sct_failure(result, f"{SCT_INVALID}: the trusted root (test root) lists no CT log")


def test_sct_is_checked_when_the_bundle_has_no_signing_time(
    pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    bundle = pki.intoto_bundle(payload, pki.leaf(sct=None), version="0.1")
    del bundle["verificationMaterial"]["tlogEntries"]
    result = verify_bundle(bundle, trust)
    assert result.rule_ids == {SIGNATURE_INVALID, TLOG_MISSING}
    assert NO_SCT in [p.message for p in result.problems]


@pytest.mark.parametrize("entry_kind", ["dsse", "intoto"])
def test_cosign_att_layer_with_a_valid_sct_verifies(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, entry_kind: str
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf, entry_kind=entry_kind)  # type: ignore[arg-type]
    assert verify_cosign_layer(blob, annotations, trust, kind="att").verified


@pytest.mark.parametrize(("knob", "message"), KNOBS, ids=KNOB_IDS)
def test_cosign_att_layer_sct_failures(
    pki: TestPKI, trust: TrustRoot, payload: bytes, knob: SctKind | None, message: str
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, pki.leaf(sct=knob))
    sct_failure(verify_cosign_layer(blob, annotations, trust, kind="att"), message)


@pytest.mark.parametrize(("knob", "message"), KNOBS, ids=KNOB_IDS)
def test_cosign_sig_layer_sct_failures(
    pki: TestPKI, trust: TrustRoot, knob: SctKind | None, message: str
) -> None:
    data, annotations = pki.cosign_sig_layer(IMAGE, pki.leaf(sct=knob))
    sct_failure(verify_cosign_layer(data, annotations, trust, kind="sig"), message)


def test_cosign_sig_layer_with_a_valid_sct_verifies(pki: TestPKI, trust: TrustRoot, leaf: Leaf) -> None:
    data, annotations = pki.cosign_sig_layer(IMAGE, leaf)
    assert verify_cosign_layer(data, annotations, trust, kind="sig").verified


def test_cosign_layer_against_a_root_without_ct_logs(pki: TestPKI, leaf: Leaf, payload: bytes) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    result = verify_cosign_layer(blob, annotations, root_from(pki.trusted_root(ctlogs=False)), kind="att")
    sct_failure(result, f"{SCT_INVALID}: the trusted root (test root) lists no CT log")


# -- sigstore-python agrees --------------------------------------------------------------------------------


def sigstore_accepts(certificate: x509.Certificate, chain: list[x509.Certificate], trust: TrustRoot) -> bool:
    from sigstore._internal.sct import verify_sct
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.errors import VerificationError

    try:
        verify_sct(certificate, chain, trust.sigstore_root().ct_keyring(KeyringPurpose.VERIFY))
    except VerificationError:
        return False
    return True


@pytest.mark.parametrize("knob", ["valid", None, "unknown-log", "bad-signature", "other-certificate"])
def test_sigstore_python_reaches_the_same_verdict_on_generated_certificates(
    pki: TestPKI, trust: TrustRoot, knob: SctKind | None
) -> None:
    certificate = pki.leaf(sct=knob).certificate
    ours = sct_problem(certificate, trust) is None
    assert ours == (knob == "valid")
    assert sigstore_accepts(certificate, [pki.intermediate_cert, pki.root_cert], trust) == ours


# -- real certificates from the corpus -----------------------------------------------------------------


def _bundle_certificates(data: bytes) -> tuple[x509.Certificate, list[x509.Certificate]]:
    material = json.loads(data)["verificationMaterial"]
    if "certificate" in material:
        items = [material["certificate"]]
    else:
        items = material["x509CertificateChain"]["certificates"]
    certificates = [x509.load_der_x509_certificate(base64.b64decode(item["rawBytes"])) for item in items]
    return certificates[0], certificates[1:]


REAL = [
    ("github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.1.json", PUBLIC_GOOD),
    ("github-attestations/bcr-publish-to-bcr.MODULE.bazel.bundle-v0.3.intoto.jsonl", PUBLIC_GOOD),
    ("slsa-github-generator/container-based-v1.7.0.workflow_dispatch.bundle-v0.1.slsa-v1.json", PUBLIC_GOOD),
    ("slsa-github-generator/delegator-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json", PUBLIC_GOOD),
    ("cosign-v3-referrers/ghcr.cosign-sign.bundle-v0.3.sigstore.json", PUBLIC_GOOD),
    (
        "sigstore-conformance/intoto-with-custom-trust-root/bundle.sigstore.json",
        "sigstore-conformance/intoto-with-custom-trust-root/trusted_root.json",
    ),
]


@pytest.mark.parametrize(("file", "root"), REAL, ids=[f for f, _ in REAL])
def test_real_fulcio_certificates_carry_a_verifying_sct(corpus: Path, file: str, root: str) -> None:
    data = (corpus / file).read_bytes()
    if file.endswith(".jsonl"):
        data = data.splitlines()[0]
    leaf, untrusted = _bundle_certificates(data)
    trust = TrustRoot.from_file(corpus / root)
    assert embedded_scts(leaf), "real Fulcio certificates embed an SCT"
    assert sct_problem(leaf, trust, untrusted) is None
    issuer = issuer_certificate(leaf, trust, untrusted)
    assert issuer is not None
    chain = [issuer, *[c for c in trust.fulcio_certificates() if c.subject == issuer.issuer]]
    assert sigstore_accepts(leaf, chain, trust)


def test_real_sct_fails_against_another_instances_ct_logs(corpus: Path) -> None:
    leaf, untrusted = _bundle_certificates(
        (corpus / "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.1.json").read_bytes()
    )
    production = json.loads((corpus / PUBLIC_GOOD).read_bytes())
    swapped = copy.deepcopy(production)
    swapped["ctlogs"] = json.loads((corpus / STAGING).read_bytes())["ctlogs"]
    trust = root_from(swapped, "production CA with staging CT logs")
    why = sct_problem(leaf, trust, untrusted)
    assert why is not None and why.startswith(f"{SCT_INVALID}: SCT is from an unknown CT log"), why
    issuer = issuer_certificate(leaf, trust, untrusted)
    assert issuer is not None and not sigstore_accepts(leaf, [issuer], trust)
    no_ctlogs = copy.deepcopy(production)
    no_ctlogs["ctlogs"] = []
    why = sct_problem(leaf, root_from(no_ctlogs), untrusted)
    assert why is not None and "lists no CT log" in why


def test_real_cosign_att_layer_sct(corpus: Path) -> None:
    """A cosign .att layer from the corpus goes through the legacy cosign path, SCT included."""
    from tests.verify.test_corpus import layer_annotations

    blob = (
        corpus / "oci-layouts/example-package-v2.1.0-buildkit-min/blobs/sha256/"
        "e163b472f2e5d66e5a2a45e26e020c51a0d2da7dc8b567b31fc2ebfd33dbc33a"
    )
    annotations = layer_annotations(corpus, blob)
    trust = TrustRoot.from_file(corpus / PUBLIC_GOOD)
    assert verify_cosign_layer(blob.read_bytes(), annotations, trust, kind="att").verified
    document = json.loads((corpus / PUBLIC_GOOD).read_bytes())
    document["ctlogs"] = []
    result = verify_cosign_layer(blob.read_bytes(), annotations, root_from(document), kind="att")
    sct_failure(result, f"{SCT_INVALID}: the trusted root (test root) lists no CT log")


# -- slsalint check ------------------------------------------------------------------------------------------


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", *args, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode < 2, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def findings(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["ruleId"], f["message"]) for t in report["targets"] for f in t["findings"] if not f["waived"]]


def signed_image(directory: Path, pki: TestPKI, leaf: Leaf) -> str:
    """A one-platform image with BuildKit provenance and a cosign .att over the index."""
    writer = LayoutWriter(directory)
    image = bk.add_platform_image(writer, Platform("linux", "amd64"), seed="sct")
    att = bk.add_attestation_manifest(writer, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(writer, [image, att], ref_name="v1.0.0")
    payload = json.dumps(bk.buildkit_v02_statement(index["digest"])).encode()
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    annotations["predicateType"] = "https://slsa.dev/provenance/v0.2"
    layer = writer.descriptor(blob, "application/vnd.dsse.envelope.v1+json", annotations=annotations)
    config = writer.descriptor(b"{}", "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }
    descriptor = writer.descriptor(writer.json_bytes(manifest), "application/vnd.oci.image.manifest.v1+json")
    writer.add_entry(descriptor, ref_name=f"{index['digest'].replace(':', '-')}.att")
    writer.write_index()
    return f"oci:{directory}:v1.0.0"


@pytest.fixture(scope="module")
def cli_pki() -> TestPKI:
    return TestPKI("sct-cli")


@pytest.mark.parametrize(("knob", "message"), [("valid", ""), *KNOBS], ids=["valid", *KNOB_IDS])
def test_check_image(tmp_path: Path, cli_pki: TestPKI, knob: SctKind | None, message: str) -> None:
    ref = signed_image(tmp_path / "image", cli_pki, cli_pki.leaf(sct=knob))
    root = cli_pki.write_trusted_root(tmp_path)
    code, report = check(ref, "--trusted-root", str(root))
    found = findings(report)
    if knob == "valid":
        assert code == 0 and not [f for f in found if f[0] == "SL202"], found
        return
    assert code == 1
    assert any(rule == "SL202" and message in text for rule, text in found), found


@pytest.mark.parametrize(("knob", "message"), [("valid", ""), *KNOBS], ids=["valid", *KNOB_IDS])
def test_check_bundle_file(tmp_path: Path, cli_pki: TestPKI, knob: SctKind | None, message: str) -> None:
    subject = "sha256:" + "1" * 64
    payload = json.dumps(bk.buildkit_v02_statement(subject)).encode()
    bundle = tmp_path / "provenance.sigstore.json"
    bundle.write_text(json.dumps(cli_pki.intoto_bundle(payload, cli_pki.leaf(sct=knob))))
    root = cli_pki.write_trusted_root(tmp_path)
    code, report = check("--attestation", str(bundle), "--subject", subject, "--trusted-root", str(root))
    found = findings(report)
    if knob == "valid":
        assert (code, found) == (0, []), found
        return
    assert code == 1
    assert [rule for rule, _ in found] == ["SL202"], found
    assert message in found[0][1]


def test_check_with_a_trusted_root_without_ct_logs(tmp_path: Path, cli_pki: TestPKI) -> None:
    ref = signed_image(tmp_path / "image", cli_pki, cli_pki.leaf())
    root = tmp_path / "no-ctlogs.json"
    root.write_text(json.dumps(cli_pki.trusted_root(ctlogs=False)))
    code, report = check(ref, "--trusted-root", str(root))
    assert code == 1
    assert any(rule == "SL202" and "lists no CT log" in text for rule, text in findings(report))
