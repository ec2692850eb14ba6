"""Bare DSSE envelopes: keyed (cosign ``keyid: ""``) and legacy keyless without log evidence."""

from __future__ import annotations

import pytest

from slsalint.verify.dsse import verify_dsse_with_keys, verify_legacy_dsse, verify_simple_signing_with_keys
from slsalint.verify.keys import load_public_key
from slsalint.verify.result import ENVELOPE_INVALID, SIGNATURE_INVALID, TLOG_MISSING
from slsalint.verify.trust import TrustRoot
from tests.support.pki import KeyKind, Leaf, TestPKI, b64, dsse_envelope, public_pem, sign, signing_key
from tests.verify.conftest import DIGEST


@pytest.mark.parametrize("kind", ["p256", "p384", "ed25519", "rsa"])
def test_keyed_envelope_with_cosign_empty_keyid(kind: KeyKind, payload: bytes) -> None:
    key = signing_key(kind)
    envelope = dsse_envelope(payload, key, keyid="")
    loaded = load_public_key(public_pem(key), source=f"{kind}.pub")
    other = load_public_key(public_pem(signing_key("p256", "not-me")), source="other.pub")
    result = verify_dsse_with_keys(envelope, [other, loaded])
    assert result.verified and result.method == "key"
    assert result.identity is not None and result.identity.key_fingerprint == loaded.fingerprint
    assert result.subject_digests == {DIGEST}
    failed = verify_dsse_with_keys(envelope, [other])
    assert not failed.verified and failed.rule_ids == {SIGNATURE_INVALID}


def test_keyed_envelope_tampered(payload: bytes) -> None:
    key = signing_key("p256")
    envelope = dsse_envelope(payload, key)
    envelope["payload"] = b64(payload + b" ")
    assert verify_dsse_with_keys(envelope, [load_public_key(public_pem(key))]).rule_ids == {SIGNATURE_INVALID}


def test_malformed_envelope() -> None:
    assert verify_dsse_with_keys({"payload": "x"}, []).rule_ids == {ENVELOPE_INVALID}


def test_simple_signing_with_keys() -> None:
    key = signing_key("p256")
    payload = b'{"critical":{}}'
    loaded = load_public_key(public_pem(key))
    assert verify_simple_signing_with_keys(payload, b64(sign(key, payload)), [loaded]).verified
    assert not verify_simple_signing_with_keys(payload + b" ", b64(sign(key, payload)), [loaded]).verified


def test_legacy_keyless_envelope_fails_closed(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    envelope = dsse_envelope(payload, leaf.key)
    envelope["signatures"][0]["cert"] = leaf.pem
    result = verify_legacy_dsse(envelope, trust)
    assert not result.verified
    assert result.rule_ids == {TLOG_MISSING}
    assert "online Rekor lookup" in result.message
    assert result.identity is not None and result.identity.certificate_pem == leaf.pem
    envelope["payload"] = b64(payload + b" ")
    assert verify_legacy_dsse(envelope, trust).rule_ids == {TLOG_MISSING, SIGNATURE_INVALID}


def test_legacy_envelope_from_an_unknown_ca(other_pki: TestPKI, trust: TrustRoot, payload: bytes) -> None:
    stranger = other_pki.leaf()
    envelope = dsse_envelope(payload, stranger.key)
    envelope["signatures"][0]["cert"] = stranger.pem
    result = verify_legacy_dsse(envelope, trust)
    assert result.rule_ids == {TLOG_MISSING, SIGNATURE_INVALID}
    assert any("does not chain" in p.message for p in result.problems)
