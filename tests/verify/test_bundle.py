"""Sigstore bundles made with the test PKI, verified by slsalint's own path (intoto/0.0.2
entries, which sigstore-python 4.x refuses): the happy path and every failure path."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.identity import SignerPolicy, match
from slsalint.verify.keys import load_public_key
from slsalint.verify.result import (
    ENVELOPE_INVALID,
    SIGNATURE_INVALID,
    SUBJECT_MISMATCH,
    TLOG_MISSING,
    Verification,
)
from slsalint.verify.trust import TrustRoot
from tests.support.pki import (
    DEFAULT_IDENTITY,
    DEFAULT_ISSUER,
    T0,
    Leaf,
    TestPKI,
    b64,
    dsse_envelope,
    public_pem,
    signing_key,
    statement,
)
from tests.verify.conftest import DIGEST


def only_rule(result: Verification) -> str:
    assert not result.verified, result
    rules = result.rule_ids
    assert len(rules) == 1, result.problems
    return next(iter(rules))


@pytest.mark.parametrize("version", ["0.1", "0.2", "0.3"])
def test_happy_path_records_signer_and_log_evidence(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, version: str
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf, version=version), trust, artifact_digest=DIGEST)  # type: ignore[arg-type]
    assert result.verified, result.problems
    assert result.method == "sigstore-bundle"
    assert result.identity is not None
    assert result.identity.subject == DEFAULT_IDENTITY
    assert result.identity.issuer == DEFAULT_ISSUER
    assert result.identity.certificate_pem == leaf.pem
    assert result.log_index == 4242
    assert result.integrated_time == T0 + timedelta(minutes=5)
    assert result.log_id == pki.log_id.hex()
    assert result.payload == payload
    assert result.subject_digests == {DIGEST}
    assert "signature verified" in result.message


def test_bytes_and_text_inputs_are_accepted(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    document = json.dumps(pki.intoto_bundle(payload, leaf))
    assert verify_bundle(document, trust).verified
    assert verify_bundle(document.encode(), trust).verified


def test_tampered_payload(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    bundle["dsseEnvelope"]["payload"] = b64(payload.replace(b"artifact", b"artefact"))
    result = verify_bundle(bundle, trust)
    assert SIGNATURE_INVALID in result.rule_ids and not result.verified
    assert any("DSSE signature" in p.message for p in result.problems)
    assert any("another payload" in p.message for p in result.problems)
    assert result.payload is None  # never hand out an unverified payload


def test_log_entry_for_another_payload(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    other = json.dumps(statement("cd" * 32)).encode()
    result = verify_bundle(pki.intoto_bundle(payload, leaf, body_payload=other), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "another payload" in result.message


def test_log_entry_for_another_certificate(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    someone = pki.leaf(key_seed="someone")
    result = verify_bundle(pki.intoto_bundle(payload, leaf, body_leaf=someone), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "another certificate" in result.message


def test_bad_set(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 60)  # still inside the cert validity
    result = verify_bundle(bundle, trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "signed entry timestamp" in result.message


def test_set_from_another_log_key(
    pki: TestPKI, other_pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    forged = other_pki.intoto_bundle(payload, leaf)
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["inclusionPromise"] = forged["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]
    assert only_rule(verify_bundle(bundle, trust)) == SIGNATURE_INVALID


def test_unknown_log(other_pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    result = verify_bundle(other_pki.intoto_bundle(payload, leaf), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "not in the trusted root" in result.message


def test_bad_inclusion_proof(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["hashes"][0] = b64(b"\x00" * 32)
    result = verify_bundle(bundle, trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "inclusion proof" in result.message


def test_checkpoint_signed_by_another_key(
    pki: TestPKI, other_pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["checkpoint"]["envelope"] = other_pki.checkpoint(
        int(proof["treeSize"]), base64.b64decode(proof["rootHash"])
    )
    result = verify_bundle(bundle, trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "checkpoint" in result.message


@pytest.mark.parametrize("version", ["0.2", "0.3"])
def test_missing_inclusion_proof_from_v02(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, version: str
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf, version=version, with_proof=False), trust)  # type: ignore[arg-type]
    assert only_rule(result) == TLOG_MISSING
    assert "online Rekor lookup" in result.message


def test_v01_needs_only_the_set(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    assert verify_bundle(pki.intoto_bundle(payload, leaf, version="0.1", with_proof=False), trust).verified
    result = verify_bundle(pki.intoto_bundle(payload, leaf, version="0.1", with_set=False), trust)
    assert only_rule(result) == TLOG_MISSING


def test_no_log_entry_and_no_timestamp(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    bundle = pki.intoto_bundle(payload, leaf)
    bundle["verificationMaterial"]["tlogEntries"] = []
    result = verify_bundle(bundle, trust)
    assert only_rule(result) == TLOG_MISSING
    assert result.identity is not None and result.identity.subject == DEFAULT_IDENTITY


def test_expired_certificate(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    late = T0 + timedelta(minutes=30)
    result = verify_bundle(pki.intoto_bundle(payload, leaf, integrated_time=late), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "expired" in result.message


def test_certificate_not_yet_valid(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    early = T0 - timedelta(minutes=1)
    result = verify_bundle(pki.intoto_bundle(payload, leaf, integrated_time=early), trust)
    assert "not yet valid" in result.message and only_rule(result) == SIGNATURE_INVALID


def test_bad_chain(other_pki: TestPKI, pki: TestPKI, trust: TrustRoot, payload: bytes) -> None:
    stranger = other_pki.leaf()
    result = verify_bundle(pki.intoto_bundle(payload, stranger), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "does not chain" in result.message


def test_roots_shipped_in_the_bundle_are_not_trusted(
    other_pki: TestPKI, pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    from cryptography.hazmat.primitives import serialization

    bundle = pki.intoto_bundle(payload, other_pki.leaf(), version="0.1")
    chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
    for cert in (other_pki.intermediate_cert, other_pki.root_cert):
        chain.append({"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))})
    assert only_rule(verify_bundle(bundle, trust)) == SIGNATURE_INVALID


def test_ca_outside_its_trusted_root_window(pki: TestPKI, leaf: Leaf, payload: bytes) -> None:
    window = (T0 + timedelta(days=1), None)
    trust = TrustRoot.from_json(json.dumps(pki.trusted_root(ca_window=window)).encode())
    result = verify_bundle(pki.intoto_bundle(payload, leaf), trust)
    assert only_rule(result) == SIGNATURE_INVALID
    assert "no certificate authority" in result.message


def test_non_code_signing_certificate(pki: TestPKI, trust: TrustRoot, payload: bytes) -> None:
    mail = pki.leaf(code_signing=False, key_seed="mail")
    result = verify_bundle(pki.intoto_bundle(payload, mail), trust)
    assert "code signing" in result.message and only_rule(result) == SIGNATURE_INVALID


def test_artifact_digest_must_be_a_subject(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf), trust, artifact_digest="sha256:" + "cd" * 32)
    assert only_rule(result) == SUBJECT_MISMATCH


def test_wrong_identity_and_wrong_issuer_fail_the_policy(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    result = verify_bundle(pki.intoto_bundle(payload, leaf), trust)
    assert result.verified and result.identity is not None
    ok, reason = match(
        result.identity, [SignerPolicy(identity="https://github.com/evil/app", issuer=DEFAULT_ISSUER)]
    )
    assert not ok and "identity" in reason
    ok, reason = match(
        result.identity, [SignerPolicy(identity=DEFAULT_IDENTITY, issuer="https://gitlab.com")]
    )
    assert not ok and "issuer" in reason


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.update(mediaType="application/vnd.dev.sigstore.bundle+json;version=99.9"), "media type"),
        (lambda b: b.pop("verificationMaterial"), "verificationMaterial"),
        (lambda b: b.pop("dsseEnvelope"), "neither"),
        (lambda b: b["verificationMaterial"].pop("certificate"), "no certificate"),
        (lambda b: b["verificationMaterial"]["tlogEntries"][0].update(canonicalizedBody="%%%"), "base64"),
    ],
)
def test_malformed_bundles(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, mutate: Any, message: str
) -> None:
    bundle = copy.deepcopy(pki.intoto_bundle(payload, leaf))
    mutate(bundle)
    result = verify_bundle(bundle, trust)
    assert ENVELOPE_INVALID in result.rule_ids and not result.verified
    assert message in str(result.problems)


def test_keyed_bundle(pki: TestPKI, trust: TrustRoot, payload: bytes) -> None:
    key = signing_key("p256", "release-key")
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "release-key"}, "tlogEntries": []},
        "dsseEnvelope": dsse_envelope(payload, key),
    }
    loaded = load_public_key(public_pem(key), source="release.pub")
    result = verify_bundle(bundle, trust, keys=[loaded])
    assert result.verified and result.method == "key"
    assert result.identity is not None and result.identity.key_fingerprint == loaded.fingerprint
    wrong = load_public_key(public_pem(signing_key("p256", "other")), source="other.pub")
    assert only_rule(verify_bundle(bundle, trust, keys=[wrong])) == SIGNATURE_INVALID
    assert "no key was given" in verify_bundle(bundle, trust).message


def test_message_signature_bundle_v01_with_only_a_set(pki: TestPKI, trust: TrustRoot, leaf: Leaf) -> None:
    import hashlib

    artifact = b"release tarball"
    digest = "sha256:" + hashlib.sha256(artifact).hexdigest()
    bundle = pki.message_bundle(artifact, leaf, with_proof=False)
    result = verify_bundle(bundle, trust)
    assert result.verified, result.problems
    assert result.signed_digest == digest
    assert verify_bundle(bundle, trust, artifact_digest=digest).verified
    other = verify_bundle(bundle, trust, artifact_digest="sha256:" + "00" * 32)
    assert only_rule(other) == SIGNATURE_INVALID and "not sha256:00" in other.message
    bundle["messageSignature"]["signature"] = bundle["messageSignature"]["signature"][:-8] + "AAAAAAA="
    tampered = verify_bundle(bundle, trust)
    assert not tampered.verified and SIGNATURE_INVALID in tampered.rule_ids
