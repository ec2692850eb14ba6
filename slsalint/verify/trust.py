"""The Sigstore trusted root: Fulcio CAs, Rekor log keys, CT log keys and timestamp authorities.

A ``TrustRoot`` is read from a ``trusted_root.json`` file (``--trusted-root FILE``, the Sigstore
``application/vnd.dev.sigstore.trustedroot+json;version=0.1`` format) or from the production root
embedded in the installed ``sigstore`` package. It never refreshes over TUF: nothing is fetched
and nothing is written to the home directory. A root that cannot be parsed or holds no usable
certificate authority raises :class:`TrustRootError` (exit code 3: fail closed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from slsalint.verify.errors import KeyLoadError, TrustRootError
from slsalint.verify.keys import PublicKey, check_key_type, fingerprint, verify_signature

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
STAGING_TUF_URL = "https://tuf-repo-cdn.sigstage.dev"


@dataclass(frozen=True)
class ValidFor:
    """A validity window from the trusted root (``end`` None: still valid)."""

    start: datetime | None
    end: datetime | None

    def contains(self, when: datetime) -> bool:
        if self.start is not None and when < self.start:
            return False
        return self.end is None or when <= self.end

    def __str__(self) -> str:
        start = self.start.isoformat() if self.start else "-"
        end = self.end.isoformat() if self.end else "open"
        return f"{start} .. {end}"


@dataclass(frozen=True)
class CertificateAuthority:
    """One Fulcio (or timestamp) authority: its chain, first certificate closest to the leaf."""

    certificates: tuple[x509.Certificate, ...]
    valid_for: ValidFor
    uri: str = ""
    subject: str = ""

    @property
    def root(self) -> x509.Certificate:
        return self.certificates[-1]


@dataclass(frozen=True)
class LogKey:
    """A transparency log (Rekor or CT) public key and its log id."""

    log_id: bytes
    """The ``logId.keyId`` of the trusted root: SHA-256 of the key's DER for Rekor v1 logs."""
    key: PublicKey
    valid_for: ValidFor
    base_url: str = ""

    @property
    def log_id_hex(self) -> str:
        return self.log_id.hex()

    @property
    def key_hint(self) -> bytes:
        """First four bytes of SHA-256 of the key's DER (signed-note key hint of checkpoints)."""
        der = self.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).digest()[:4]

    def verify(self, signature: bytes, data: bytes) -> bool:
        return verify_signature(self.key, signature, data)


@dataclass
class TrustRoot:
    """Everything signatures are verified against. Build with ``from_file`` / ``production``."""

    fulcio: tuple[CertificateAuthority, ...]
    rekor: tuple[LogKey, ...]
    ctlogs: tuple[LogKey, ...]
    tsa: tuple[CertificateAuthority, ...]
    source: str
    """Where the root came from (a path, or ``embedded:production``), for messages."""
    raw: bytes = field(repr=False, default=b"")
    _sigstore_root: TrustedRoot | None = field(default=None, repr=False, compare=False)
    _verifier: Verifier | None = field(default=None, repr=False, compare=False)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: Path | str) -> TrustRoot:
        """Load ``trusted_root.json``; raises TrustRootError naming the file when unusable."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TrustRootError(f"{path}: cannot read trusted root: {exc.strerror or exc}") from None
        return cls.from_json(data, source=str(path))

    @classmethod
    def production(cls) -> TrustRoot:
        """Sigstore's public-good root as embedded in the installed sigstore package (offline)."""
        return cls._embedded(PRODUCTION_TUF_URL, "embedded:production")

    @classmethod
    def staging(cls) -> TrustRoot:
        """Sigstore's staging root as embedded in the installed sigstore package (offline)."""
        return cls._embedded(STAGING_TUF_URL, "embedded:staging")

    @classmethod
    def _embedded(cls, url: str, source: str) -> TrustRoot:
        from urllib.parse import quote

        try:
            data = resources.files("sigstore._store").joinpath(quote(url, safe=""), "trusted_root.json")
            raw = data.read_bytes()
        except (ModuleNotFoundError, OSError) as exc:
            raise TrustRootError(
                f"{source}: the sigstore package has no embedded trusted root: {exc}"
            ) from None
        return cls.from_json(raw, source=source)

    @classmethod
    def from_json(cls, data: bytes, *, source: str = "trusted root") -> TrustRoot:
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TrustRootError(f"{source}: trusted root is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise TrustRootError(f"{source}: trusted root is not a JSON object")
        media_type = document.get("mediaType")
        if media_type != TRUSTED_ROOT_MEDIA_TYPE:
            raise TrustRootError(
                f"{source}: unsupported trusted root media type {media_type!r} "
                f"(expected {TRUSTED_ROOT_MEDIA_TYPE!r})"
            )
        fulcio = tuple(
            _authority(item, f"{source}: certificateAuthorities[{i}]")
            for i, item in enumerate(_list(document, "certificateAuthorities", source))
        )
        tsa = tuple(
            _authority(item, f"{source}: timestampAuthorities[{i}]")
            for i, item in enumerate(_list(document, "timestampAuthorities", source))
        )
        rekor = tuple(
            key
            for i, item in enumerate(_list(document, "tlogs", source))
            if (key := _log_key(item, f"{source}: tlogs[{i}]")) is not None
        )
        ctlogs = tuple(
            key
            for i, item in enumerate(_list(document, "ctlogs", source))
            if (key := _log_key(item, f"{source}: ctlogs[{i}]")) is not None
        )
        if not fulcio:
            raise TrustRootError(f"{source}: trusted root has no certificate authority")
        if not rekor and not tsa:
            raise TrustRootError(
                f"{source}: trusted root has neither a transparency log nor a timestamp authority"
            )
        return cls(fulcio=fulcio, rekor=rekor, ctlogs=ctlogs, tsa=tsa, source=source, raw=bytes(data))

    # -- lookups ------------------------------------------------------------------------------

    def log_key(self, log_id: bytes) -> LogKey | None:
        """The Rekor key with this log id (the id is also checked against the key's own hash)."""
        for key in self.rekor:
            if key.log_id == log_id:
                return key
        for key in self.rekor:
            if bytes.fromhex(fingerprint(key.key).removeprefix("sha256:")) == log_id:
                return key
        return None

    def ct_log_key(self, log_id: bytes) -> LogKey | None:
        """The CT log key with this log id: the trusted root's ``logId`` or, as RFC 6962 defines
        it, the SHA-256 of the key's SubjectPublicKeyInfo DER."""
        for key in self.ctlogs:
            if key.log_id == log_id:
                return key
        for key in self.ctlogs:
            if bytes.fromhex(fingerprint(key.key).removeprefix("sha256:")) == log_id:
                return key
        return None

    def fulcio_certificates(self) -> list[x509.Certificate]:
        return [cert for ca in self.fulcio for cert in ca.certificates]

    # -- the sigstore-python view -------------------------------------------------------------

    def sigstore_root(self) -> TrustedRoot:
        """The same root as a ``sigstore.models.TrustedRoot`` (built once, lazily)."""
        if self._sigstore_root is None:
            from sigstore.models import TrustedRoot
            from sigstore_models.trustroot import v1 as trustroot_v1

            try:
                self._sigstore_root = TrustedRoot(trustroot_v1.TrustedRoot.from_json(self.raw))
            except Exception as exc:  # pydantic and sigstore raise several unrelated types
                raise TrustRootError(
                    f"{self.source}: sigstore cannot load this trusted root: {exc}"
                ) from None
        return self._sigstore_root

    def sigstore_verifier(self) -> Verifier:
        """A sigstore-python ``Verifier`` over this root (built once; no network access)."""
        if self._verifier is None:
            from sigstore.errors import Error
            from sigstore.verify import Verifier

            try:
                self._verifier = Verifier(trusted_root=self.sigstore_root())
            except Error as exc:
                raise TrustRootError(f"{self.source}: {exc}") from None
        return self._verifier


def _list(document: dict[str, Any], key: str, source: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TrustRootError(f"{source}: '{key}' is not a list")
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TrustRootError(f"{where}: timestamp is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TrustRootError(f"{where}: malformed timestamp {value!r}") from None
    if parsed.tzinfo is None:
        raise TrustRootError(f"{where}: timestamp {value!r} has no time zone")
    return parsed


def _valid_for(item: dict[str, Any], where: str) -> ValidFor:
    window = item.get("validFor")
    if window is None:
        return ValidFor(None, None)
    if not isinstance(window, dict):
        raise TrustRootError(f"{where}: 'validFor' is not an object")
    return ValidFor(_time(window.get("start"), where), _time(window.get("end"), where))


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise TrustRootError(f"{where}: missing base64 'rawBytes'")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TrustRootError(f"{where}: 'rawBytes' is not valid base64") from None


def _authority(item: Any, where: str) -> CertificateAuthority:
    if not isinstance(item, dict):
        raise TrustRootError(f"{where}: not an object")
    chain = item.get("certChain")
    certs_json = chain.get("certificates") if isinstance(chain, dict) else None
    if not isinstance(certs_json, list) or not certs_json:
        raise TrustRootError(f"{where}: no 'certChain.certificates'")
    certificates = []
    for i, cert in enumerate(certs_json):
        raw = _b64(cert.get("rawBytes") if isinstance(cert, dict) else None, f"{where} certificate {i}")
        try:
            certificates.append(x509.load_der_x509_certificate(raw))
        except ValueError as exc:
            raise TrustRootError(f"{where} certificate {i}: not a DER certificate: {exc}") from None
    subject = item.get("subject")
    subject_text = ""
    if isinstance(subject, dict):
        subject_text = ", ".join(f"{k}={v}" for k, v in subject.items() if isinstance(v, str))
    uri = item.get("uri")
    return CertificateAuthority(
        certificates=tuple(certificates),
        valid_for=_valid_for(item, where),
        uri=uri if isinstance(uri, str) else "",
        subject=subject_text,
    )


def _log_key(item: Any, where: str) -> LogKey | None:
    """A log key, or None for a key type this build cannot use (sigstore skips those too)."""
    if not isinstance(item, dict):
        raise TrustRootError(f"{where}: not an object")
    public_key = item.get("publicKey")
    if not isinstance(public_key, dict):
        raise TrustRootError(f"{where}: no 'publicKey'")
    raw = _b64(public_key.get("rawBytes"), where)
    try:
        key = serialization.load_der_public_key(raw)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise TrustRootError(f"{where}: public key is not DER SubjectPublicKeyInfo: {exc}") from None
    try:
        checked = check_key_type(key, where)
    except KeyLoadError:
        return None
    log_id_json = item.get("logId")
    key_id = log_id_json.get("keyId") if isinstance(log_id_json, dict) else None
    log_id = _b64(key_id, f"{where} logId") if key_id else hashlib.sha256(raw).digest()
    base_url = item.get("baseUrl")
    return LogKey(
        log_id=log_id,
        key=checked,
        valid_for=_valid_for(public_key, where),
        base_url=base_url if isinstance(base_url, str) else "",
    )
