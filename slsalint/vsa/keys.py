"""Private keys for signing VSAs, in the formats cosign reads, and the DSSE key id.

Formats (what ``cosign sign --key`` / ``cosign import-key-pair`` accept):

- ``ENCRYPTED SIGSTORE PRIVATE KEY`` and the older ``ENCRYPTED COSIGN PRIVATE KEY`` (what
  ``cosign generate-key-pair`` writes): the PEM body is a JSON document
  ``{"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt"}, "cipher": {"name":
  "nacl/secretbox", "nonce"}, "ciphertext"}`` (byte strings in standard base64). The key is
  ``scrypt(password, salt, N, r, p, 32 bytes)``, the plaintext NaCl secretbox (XSalsa20-Poly1305)
  opens to a PKCS#8 DER private key. As in cosign, only the three scrypt parameter sets cosign
  and go-securesystemslib write are accepted (N = 2^15, 2^16 or 2^17 with r = 8, p = 1), so a
  tampered file cannot make slsalint spend unbounded memory. The password comes from
  ``COSIGN_PASSWORD`` (empty is a valid password; unset is an error, there is no prompt).
- ``PRIVATE KEY`` (PKCS#8: ECDSA, Ed25519 or RSA), ``EC PRIVATE KEY`` (SEC 1) and
  ``RSA PRIVATE KEY`` (PKCS#1), unencrypted; ``ENCRYPTED PRIVATE KEY`` (PKCS#8 with a password,
  also from ``COSIGN_PASSWORD``).

Signatures are made the way cosign and slsa-verifier verify them: ECDSA with the curve's own hash
(P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), RSA PKCS#1 v1.5 with SHA-256, pure Ed25519.

The key id written into each DSSE signature defaults to go-securesystemslib's ``SHA256KeyID``
(``SHA256:`` and the unpadded base64 SHA-256 of the key in SSH wire format): it is the id
``slsa-verifier verify-vsa`` and cosign compute for a key when none is given, so they verify the
envelope without ``--public-key-id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from slsalint.errors import ConfigError
from slsalint.verify.errors import KeyLoadError
from slsalint.verify.keys import LoadedKey, PublicKey, check_key_type, fingerprint

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

PASSWORD_ENV = "COSIGN_PASSWORD"  # noqa: S105 (the variable's name, not a password)
MAX_KEY_FILE = 64 * 1024
ENCRYPTED_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
PLAIN_TYPES = ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
SCRYPT_PARAMS = frozenset({(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)})
"""go-securesystemslib's legacy, standard and OWASP scrypt parameters (N, r, p)."""
_CURVE_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign, with its public half and the key id it signs under."""

    private: PrivateKey
    public: LoadedKey
    keyid: str
    source: str

    def sign(self, data: bytes) -> bytes:
        key = self.private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(_CURVE_HASH[key.curve.name]()))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data)


def ssh_key_id(key: PublicKey) -> str:
    """go-securesystemslib ``SHA256KeyID``: ``SHA256:`` + unpadded base64 of SHA-256 over the
    SSH wire encoding of the key (what ``ssh-keygen -l`` prints)."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def _pem_block(data: bytes, source: str) -> tuple[str, bytes]:
    """The type and the base64-decoded body of the first PEM block."""
    text = data.decode("ascii", "replace")
    start = text.find("-----BEGIN ")
    if start < 0:
        raise ConfigError(f"{source}: not a PEM private key (no -----BEGIN line)")
    head_end = text.find("-----", start + 11)
    if head_end < 0:
        raise ConfigError(f"{source}: malformed PEM header")
    kind = text[start + 11 : head_end]
    footer = f"-----END {kind}-----"
    end = text.find(footer, head_end)
    if end < 0:
        raise ConfigError(f"{source}: PEM block {kind!r} has no {footer} line")
    body = "".join(text[head_end + 5 : end].split())
    try:
        return kind, base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{source}: PEM block {kind!r} is not valid base64") from None


def _password(source: str) -> bytes:
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        raise ConfigError(f"{source}: the key is encrypted; set {PASSWORD_ENV} to its password")
    return value.encode("utf-8")


def _b64_field(document: dict[str, object], path: tuple[str, ...], source: str) -> bytes:
    value: object = document
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, str):
        raise ConfigError(f"{source}: encrypted key has no string {'.'.join(path)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{source}: encrypted key field {'.'.join(path)} is not valid base64") from None


def decrypt_sigstore_key(body: bytes, password: bytes, *, source: str) -> bytes:
    """The PKCS#8 DER inside a cosign/sigstore encrypted key body (the decoded PEM bytes)."""
    from slsalint import jsonio

    try:
        document = jsonio.load_object(body, unique_keys=True)
    except jsonio.JSONError as exc:
        raise ConfigError(f"{source}: encrypted key is not a JSON object: {exc}") from None
    kdf = document.get("kdf")
    cipher = document.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise ConfigError(f"{source}: encrypted key: unsupported kdf (expected scrypt)")
    if not isinstance(cipher, dict) or cipher.get("name") != "nacl/secretbox":
        raise ConfigError(f"{source}: encrypted key: unsupported cipher (expected nacl/secretbox)")
    params = kdf.get("params")
    triple = tuple(params.get(k) for k in ("N", "r", "p")) if isinstance(params, dict) else (None, None, None)
    if triple not in SCRYPT_PARAMS:
        raise ConfigError(f"{source}: encrypted key: unsupported scrypt parameters {triple}")
    salt = _b64_field(document, ("kdf", "salt"), source)
    nonce = _b64_field(document, ("cipher", "nonce"), source)
    ciphertext = _b64_field(document, ("ciphertext",), source)
    if len(nonce) != 24:
        raise ConfigError(f"{source}: encrypted key: nonce is {len(nonce)} bytes, expected 24")
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    n, r, p = (int(str(v)) for v in triple)
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password)
    import nacl.exceptions
    import nacl.secret

    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(ciphertext, nonce))
    except nacl.exceptions.CryptoError:
        raise ConfigError(
            f"{source}: cannot decrypt the key: wrong password ({PASSWORD_ENV}) or a damaged key file"
        ) from None


def _check_private(key: object, source: str) -> PrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _CURVE_HASH:
            raise ConfigError(f"{source}: unsupported elliptic curve {key.curve.name}")
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ConfigError(f"{source}: RSA key of {key.key_size} bits is too small (minimum 2048)")
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ConfigError(f"{source}: unsupported private key type {type(key).__name__}")


def parse_private_key(data: bytes, *, source: str) -> PrivateKey:
    """A private key from PEM bytes in one of the formats of the module doc (ConfigError, one
    line naming ``source``, when it cannot be used)."""
    kind, body = _pem_block(data, source)
    try:
        if kind in ENCRYPTED_TYPES:
            der = decrypt_sigstore_key(body, _password(source), source=source)
            loaded: object = serialization.load_der_private_key(der, password=None)
        elif kind == "ENCRYPTED PRIVATE KEY":
            loaded = serialization.load_der_private_key(body, password=_password(source))
        elif kind in PLAIN_TYPES:
            loaded = serialization.load_pem_private_key(data.strip(), password=None)
        else:
            raise ConfigError(
                f"{source}: PEM block {kind!r} is not a private key (expected one of "
                f"{', '.join(ENCRYPTED_TYPES + PLAIN_TYPES)})"
            )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{source}: cannot load the private key: {detail}") from None
    return _check_private(loaded, source)


def load_signing_key(path: Path, *, key_id: str | None = None, what: str = "--vsa-key") -> SigningKey:
    """Read and load a private key file; ``key_id`` overrides the recorded key id."""
    from slsalint import fileio

    source = f"{what} {path}"
    try:
        data = fileio.read_bytes(path, limit=MAX_KEY_FILE)
    except fileio.FileReadError as exc:
        raise ConfigError(f"{what} {exc}") from None
    private = parse_private_key(data, source=source)
    try:
        public = check_key_type(private.public_key(), source)
    except KeyLoadError as exc:
        raise ConfigError(str(exc)) from None
    loaded = LoadedKey(key=public, fingerprint=fingerprint(public), source=str(path))
    if key_id is not None and not key_id.strip():
        raise ConfigError(f"{what}-id: empty key id")
    return SigningKey(private=private, public=loaded, keyid=key_id or ssh_key_id(public), source=str(path))
