"""Legacy cosign ``.att`` / ``.sig`` layers made with the test PKI: every failure path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from slsalint.verify.cosign import (
    BUNDLE_ANNOTATION,
    CERTIFICATE_ANNOTATION,
    SIGNATURE_ANNOTATION,
    verify_cosign_layer,
)
from slsalint.verify.identity import SignerPolicy, match
from slsalint.verify.keys import load_public_key
from slsalint.verify.result import ENVELOPE_INVALID, SIGNATURE_INVALID, TLOG_MISSING, Verification
from slsalint.verify.simple_signing import check_image_signature
from slsalint.verify.trust import TrustRoot
from tests.support.pki import (
    DEFAULT_IDENTITY,
    DEFAULT_ISSUER,
    T0,
    Leaf,
    TestPKI,
    b64,
    public_pem,
    signing_key,
)
from tests.verify.conftest import DIGEST

IMAGE = "sha256:" + "12" * 32


def rules(result: Verification) -> set[str]:
    assert not result.verified
    return set(result.rule_ids)


@pytest.mark.parametrize("entry_kind", ["dsse", "intoto"])
def test_att_layer_happy_path(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes, entry_kind: str
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf, entry_kind=entry_kind)  # type: ignore[arg-type]
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert result.verified, result.problems
    assert result.method == "cosign-legacy"
    assert result.identity is not None and result.identity.subject == DEFAULT_IDENTITY
    assert result.identity.issuer == DEFAULT_ISSUER
    assert result.log_index == 4242 and result.integrated_time == T0 + timedelta(minutes=5)
    assert result.subject_digests == {DIGEST}


def test_att_tampered_payload(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    envelope = json.loads(blob)
    envelope["payload"] = b64(payload.replace(b"artifact", b"artefact"))
    result = verify_cosign_layer(json.dumps(envelope).encode(), annotations, trust, kind="att")
    assert rules(result) == {SIGNATURE_INVALID}
    assert any("over PAE" in p.message for p in result.problems)


def test_att_intoto_entry_binds_the_exact_envelope(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf, entry_kind="intoto")
    reformatted = json.dumps(json.loads(blob), indent=1).encode()  # same signature, other bytes
    result = verify_cosign_layer(reformatted, annotations, trust, kind="att")
    assert rules(result) == {SIGNATURE_INVALID}
    assert "another envelope" in result.message


def test_att_bad_set(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    bundle = json.loads(annotations[BUNDLE_ANNOTATION])
    bundle["Payload"]["logIndex"] += 1
    annotations[BUNDLE_ANNOTATION] = json.dumps(bundle)
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert rules(result) == {SIGNATURE_INVALID}
    assert "signed entry timestamp" in result.message


def test_att_entry_recording_another_certificate(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf, body_leaf=pki.leaf(key_seed="other"))
    assert "another certificate" in verify_cosign_layer(blob, annotations, trust, kind="att").message


def test_att_bad_chain(other_pki: TestPKI, trust: TrustRoot, payload: bytes) -> None:
    # signed and logged entirely by an attacker's CA and log
    blob, annotations = other_pki.cosign_att_layer(payload, other_pki.leaf())
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert rules(result) == {SIGNATURE_INVALID}
    messages = " ".join(p.message for p in result.problems)
    assert "not in the trusted root" in messages and "does not chain" in messages


def test_att_expired_certificate(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf, integrated_time=T0 + timedelta(hours=1))
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert rules(result) == {SIGNATURE_INVALID} and "expired" in result.message


def test_keyless_layer_without_rekor_bundle_needs_an_online_lookup(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    del annotations[BUNDLE_ANNOTATION]
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert rules(result) == {TLOG_MISSING}
    assert "online Rekor lookup" in result.message
    assert result.identity is not None  # the signer is still reported


def test_malformed_layers(pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    assert rules(verify_cosign_layer(b"not json", annotations, trust, kind="att")) == {ENVELOPE_INVALID}
    annotations[BUNDLE_ANNOTATION] = "{}"
    assert rules(verify_cosign_layer(blob, annotations, trust, kind="att")) == {ENVELOPE_INVALID}
    annotations[CERTIFICATE_ANNOTATION] = "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----"
    assert rules(verify_cosign_layer(blob, annotations, trust, kind="att")) == {ENVELOPE_INVALID}


def test_sig_layer_keyless(pki: TestPKI, trust: TrustRoot, leaf: Leaf) -> None:
    payload, annotations = pki.cosign_sig_layer(IMAGE, leaf, optional={"tag": "v1.2.3"})
    result = verify_cosign_layer(payload, annotations, trust, kind="sig")
    assert result.verified, result.problems
    assert result.identity is not None and result.identity.subject == DEFAULT_IDENTITY
    assert check_image_signature(payload, IMAGE, {"tag": "v1.2.3"}) == []


def test_sig_layer_for_another_digest_and_missing_annotation(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf
) -> None:
    payload, annotations = pki.cosign_sig_layer("sha256:" + "34" * 32, leaf)
    assert verify_cosign_layer(payload, annotations, trust, kind="sig").verified
    problems = check_image_signature(payload, IMAGE, {})
    assert [p.rule_id for p in problems] == ["SL205"]
    payload, annotations = pki.cosign_sig_layer(IMAGE, leaf, optional={"tag": "v1.0.0"})
    problems = check_image_signature(payload, IMAGE, {"tag": "v1.2.3", "env": "prod"})
    assert [p.rule_id for p in problems] == ["SL206", "SL206"]
    assert "'env' is missing" in problems[0].message and "tag='v1.0.0'" in problems[1].message


def test_sig_layer_tampered_payload(pki: TestPKI, trust: TrustRoot, leaf: Leaf) -> None:
    payload, annotations = pki.cosign_sig_layer(IMAGE, leaf)
    tampered = payload.replace(IMAGE.encode(), ("sha256:" + "56" * 32).encode())
    result = verify_cosign_layer(tampered, annotations, trust, kind="sig")
    assert rules(result) == {SIGNATURE_INVALID}
    assert any("image signature does not verify" in p.message for p in result.problems)
    assert any("another artifact" in p.message for p in result.problems)


def test_sig_layer_with_a_key(pki: TestPKI, trust: TrustRoot) -> None:
    key = signing_key("p256", "cosign.key")
    payload, annotations = pki.cosign_sig_layer(IMAGE, None, key=key)
    loaded = load_public_key(public_pem(key), source="cosign.pub")
    result = verify_cosign_layer(payload, annotations, trust, kind="sig", keys=[loaded])
    assert result.verified and result.method == "key"
    assert result.identity is not None and match(result.identity, [SignerPolicy(key=loaded)])[0]
    wrong = load_public_key(public_pem(signing_key("p256", "other")), source="other.pub")
    result = verify_cosign_layer(payload, annotations, trust, kind="sig", keys=[wrong])
    assert rules(result) == {SIGNATURE_INVALID} and "other.pub" in result.message
    assert "no key was given" in verify_cosign_layer(payload, annotations, trust, kind="sig").message


def test_sig_layer_without_signature_annotation(pki: TestPKI, trust: TrustRoot, leaf: Leaf) -> None:
    payload, annotations = pki.cosign_sig_layer(IMAGE, leaf)
    annotations[SIGNATURE_ANNOTATION] = ""
    assert rules(verify_cosign_layer(payload, annotations, trust, kind="sig")) == {ENVELOPE_INVALID}
