"""Public keys: PEM/DER loading and signature checks with the hash cosign uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from slsalint.errors import ConfigError
from slsalint.verify.errors import KeyLoadError
from slsalint.verify.keys import load_public_key, load_public_key_file
from tests.support.pki import KeyKind, public_pem, sign, signing_key

KINDS: list[KeyKind] = ["p256", "p384", "ed25519", "rsa"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_key_type_verifies_its_own_signature_only(kind: KeyKind) -> None:
    key = signing_key(kind)
    loaded = load_public_key(public_pem(key), source=f"{kind}.pub")
    assert loaded.verify(sign(key, b"payload"), b"payload")
    assert not loaded.verify(sign(key, b"payload"), b"tampered")
    assert not loaded.verify(sign(signing_key(kind, "someone else"), b"payload"), b"payload")
    assert loaded.fingerprint.startswith("sha256:") and len(loaded.fingerprint) == 71


def test_p384_signed_with_sha256_is_accepted_as_cosign_does() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = signing_key("p384")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    assert load_public_key(public_pem(key)).verify(signature, b"data")


def test_key_file_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "cosign.pub"
    path.write_bytes(public_pem(signing_key("p256")))
    assert load_public_key_file(path).source == str(path)
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(KeyLoadError, match=r"garbage\.pub"):
        load_public_key_file(garbage)
    with pytest.raises(KeyLoadError, match="cannot read key file") as caught:
        load_public_key_file(tmp_path / "absent.pub")
    assert isinstance(caught.value, ConfigError)


def test_small_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyLoadError, match="too small"):
        load_public_key(public_pem(small))


def test_empty_signature_never_verifies() -> None:
    assert not load_public_key(public_pem(signing_key("ed25519"))).verify(b"", b"x")
