"""Public keys: loading (PEM or DER) and verifying a signature over bytes with the right hash.

cosign signs with ECDSA P-256/SHA-256 by default, RSA keys with PKCS#1 v1.5/SHA-256, and Ed25519
keys with pure Ed25519. Keys made with ``--signing-algorithm`` use the curve's own hash (P-384 with
SHA-384, P-521 with SHA-512) or RSA-PSS. A signature is accepted when it verifies under one of
these (all of them strong) combinations for the key's type; nothing weaker is tried.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from slsalint.verify.errors import KeyLoadError

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
"""Key types slsalint verifies with."""

_FAQ = re.compile(r"See https://cryptography\.io/\S+ for more details\.")
_CURVE_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


@dataclass(frozen=True)
class LoadedKey:
    """A public key with a stable fingerprint (``sha256:`` of its SubjectPublicKeyInfo DER)."""

    key: PublicKey
    fingerprint: str
    source: str = ""
    """Where the key came from (a path, ``certificate``, ``inline``), for messages."""

    @property
    def algorithm(self) -> str:
        return key_algorithm(self.key)

    def verify(self, signature: bytes, data: bytes) -> bool:
        return verify_signature(self.key, signature, data)

    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def key_algorithm(key: PublicKey) -> str:
    """A short name: ``ecdsa-p256``, ``ecdsa-p384``, ``ed25519``, ``rsa-2048``..."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}.get(
            key.curve.name, f"ecdsa-{key.curve.name}"
        )
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return f"rsa-{key.key_size}"


def fingerprint(key: PublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def check_key_type(key: object, source: str) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _CURVE_HASH:
            raise KeyLoadError(f"{source}: unsupported elliptic curve {key.curve.name}")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise KeyLoadError(f"{source}: RSA key of {key.key_size} bits is too small (minimum 2048)")
        return key
    raise KeyLoadError(f"{source}: unsupported public key type {type(key).__name__}")


def load_public_key(data: bytes, *, source: str = "inline") -> LoadedKey:
    """Load a PEM (``PUBLIC KEY``, ``RSA PUBLIC KEY`` or ``CERTIFICATE``) or DER public key."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN CERTIFICATE-----"):
            loaded: object = x509.load_pem_x509_certificate(text).public_key()
        elif text.startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(text)
        else:
            loaded = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        detail = _FAQ.sub("", " ".join(str(exc).split())).strip()
        raise KeyLoadError(f"{source}: not a PEM or DER public key ({detail[:200]})") from None
    key = check_key_type(loaded, source)
    return LoadedKey(key=key, fingerprint=fingerprint(key), source=source)


MAX_KEY_FILE = 1024 * 1024
"""Largest key file read (a PEM public key or certificate is a few KiB)."""


def load_public_key_file(path: Path) -> LoadedKey:
    """Load a key file; raises KeyLoadError (one line, naming the file) when it cannot be used.
    Only a regular file is read (never a FIFO or a device), and at most ``MAX_KEY_FILE`` bytes."""
    from slsalint import fileio

    try:
        data = fileio.read_bytes(path, limit=MAX_KEY_FILE)
    except fileio.FileReadError as exc:
        raise KeyLoadError(f"{path}: cannot read key file: {exc.problem}") from None
    return load_public_key(data, source=str(path))


def verify_signature(key: object, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid signature of ``data`` under ``key`` (see module doc)."""
    if not signature:
        return False
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            natural = _CURVE_HASH.get(key.curve.name, hashes.SHA256)
            candidates: list[type[hashes.HashAlgorithm]] = [natural]
            if natural is not hashes.SHA256:
                candidates.append(hashes.SHA256)
            for algorithm in candidates:
                try:
                    key.verify(signature, data, ec.ECDSA(algorithm()))
                    return True
                except InvalidSignature:
                    continue
            return False
        if isinstance(key, rsa.RSAPublicKey):
            return _verify_rsa(key, signature, data)
        return False
    except InvalidSignature:
        return False
    except (ValueError, UnsupportedAlgorithm):
        return False


def _verify_rsa(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    for algorithm in (hashes.SHA256, hashes.SHA384, hashes.SHA512):
        try:
            key.verify(signature, data, padding.PKCS1v15(), algorithm())
            return True
        except InvalidSignature:
            pass
        try:
            key.verify(
                signature,
                data,
                padding.PSS(mgf=padding.MGF1(algorithm()), salt_length=padding.PSS.AUTO),
                algorithm(),
            )
            return True
        except InvalidSignature:
            pass
    return False
