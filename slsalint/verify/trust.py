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
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    document: dict[str, Any] = field(repr=False, default_factory=dict, compare=False)
    """The parsed (and checked) trusted root document."""
    _sigstore_root: TrustedRoot | None = field(default=None, repr=False, compare=False)
    _verifier: Verifier | None = field(default=None, repr=False, compare=False)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: Path | str) -> TrustRoot:
        """Load ``trusted_root.json``; raises TrustRootError naming the file when unusable."""
        from slsalint import fileio

        try:
            data = fileio.read_bytes(path, limit=MAX_TRUSTED_ROOT_BYTES)
        except fileio.FileReadError as exc:
            raise TrustRootError(f"{path}: cannot read trusted root: {exc.problem}") from None
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
        """Parse and check a trusted root document; every problem is one TrustRootError line
        ``SOURCE: FIELD: what is wrong`` (FIELD as a path such as ``tlogs[1].publicKey.validFor``)."""
        from slsalint import jsonio

        try:
            document = jsonio.load_object(data)
        except jsonio.JSONError as exc:
            raise TrustRootError(f"{source}: trusted root is not valid JSON: {exc}") from None
        reader = _Reader(source)
        reader.fields(document, "", TRUSTED_ROOT_FIELDS)
        media_type = document.get("mediaType")
        if media_type is not None and not isinstance(media_type, str):
            raise reader.fail("mediaType", f"expected a string, got {_type_name(media_type)}")
        if media_type not in TRUSTED_ROOT_MEDIA_TYPES:
            shown = repr(media_type[:80]) if isinstance(media_type, str) else "none"
            raise TrustRootError(
                f"{source}: unsupported trusted root media type {shown} "
                f"(expected {TRUSTED_ROOT_MEDIA_TYPE!r})"
            )
        fulcio = tuple(
            _authority(reader, item, f"certificateAuthorities[{i}]")
            for i, item in enumerate(reader.items(document, "certificateAuthorities"))
        )
        tsa = tuple(
            _authority(reader, item, f"timestampAuthorities[{i}]")
            for i, item in enumerate(reader.items(document, "timestampAuthorities"))
        )
        rekor = tuple(
            key
            for i, item in enumerate(reader.items(document, "tlogs"))
            if (key := _log_key(reader, item, f"tlogs[{i}]")) is not None
        )
        ctlogs = tuple(
            key
            for i, item in enumerate(reader.items(document, "ctlogs"))
            if (key := _log_key(reader, item, f"ctlogs[{i}]")) is not None
        )
        if not fulcio:
            raise TrustRootError(f"{source}: trusted root has no certificate authority")
        if not rekor and not tsa:
            raise TrustRootError(
                f"{source}: trusted root has neither a transparency log nor a timestamp authority"
            )
        return cls(
            fulcio=fulcio,
            rekor=rekor,
            ctlogs=ctlogs,
            tsa=tsa,
            source=source,
            raw=bytes(data),
            document=document,
        )

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
        """The same root as a ``sigstore.models.TrustedRoot`` (built once, lazily).

        sigstore-python treats the end of a timestamp authority's ``validFor`` as exclusive,
        while the trusted-root format defines every ``TimeRange`` as closed (``[start, end]``);
        it is handed the root with each such end one microsecond later (the resolution of the
        times it compares), so that its ``time < end`` test is ``time <= end``.
        """
        if self._sigstore_root is None:
            from pydantic import ValidationError
            from sigstore.models import TrustedRoot
            from sigstore_models.trustroot import v1 as trustroot_v1

            try:
                inner = trustroot_v1.TrustedRoot.from_json(json.dumps(_closed_tsa_windows(self.document)))
                self._sigstore_root = TrustedRoot(inner)
            except ValidationError as exc:
                raise TrustRootError(f"{self.source}: {_pydantic_line(exc)}") from None
            except Exception as exc:  # sigstore raises several unrelated types
                raise TrustRootError(
                    f"{self.source}: sigstore cannot load this trusted root: {_one_line(exc)}"
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


MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024
"""Largest trusted root file read (the public-good root is ~10 KiB)."""
MAX_ROOT_ENTRIES = 64
"""Most authorities or logs of one kind in a trusted root."""

TRUSTED_ROOT_MEDIA_TYPES = frozenset(
    {TRUSTED_ROOT_MEDIA_TYPE, "application/vnd.dev.sigstore.trustedroot.v0.2+json"}
)
TRUSTED_ROOT_FIELDS = frozenset(
    {"mediaType", "tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"}
)
_AUTHORITY_FIELDS = frozenset({"subject", "uri", "certChain", "validFor", "operator"})
_LOG_FIELDS = frozenset({"baseUrl", "hashAlgorithm", "publicKey", "logId", "checkpointKeyId", "operator"})
_KEY_FIELDS = frozenset({"rawBytes", "keyDetails", "validFor"})
_HASH_ALGORITHMS = frozenset({"SHA2_256", "SHA2_384", "SHA2_512", "SHA3_256", "SHA3_384"})
_KEY_DETAILS = frozenset(
    {
        "PKCS1_RSA_PKCS1V5",
        "PKCS1_RSA_PSS",
        "PKIX_RSA_PKCS1V5",
        "PKIX_RSA_PSS",
        "PKIX_RSA_PKCS1V15_2048_SHA256",
        "PKIX_RSA_PKCS1V15_3072_SHA256",
        "PKIX_RSA_PKCS1V15_4096_SHA256",
        "PKIX_RSA_PSS_2048_SHA256",
        "PKIX_RSA_PSS_3072_SHA256",
        "PKIX_RSA_PSS_4096_SHA256",
        "PKIX_ECDSA_P256_HMAC_SHA_256",
        "PKIX_ECDSA_P256_SHA_256",
        "PKIX_ECDSA_P384_SHA_384",
        "PKIX_ECDSA_P521_SHA_512",
        "PKIX_ED25519",
        "PKIX_ED25519_PH",
        "PKIX_ECDSA_P384_SHA_256",
        "PKIX_ECDSA_P521_SHA_256",
        "LMS_SHA256",
        "LMOTS_SHA256",
        "ML_DSA_65",
        "ML_DSA_87",
    }
)
"""``PublicKeyDetails`` of the Sigstore protobuf specs (what a trusted root may name)."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _pydantic_line(exc: Any) -> str:
    """The first error of a pydantic ValidationError as ``field.path: message`` (one line)."""
    errors = exc.errors()
    if not errors:
        return "sigstore cannot load this trusted root"
    first = errors[0]
    path = ""
    for part in first.get("loc", ()):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path or 'trusted root'}: {_one_line(Exception(first.get('msg', 'invalid')))}{more}"


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


class _Reader:
    """Field access with the path of every value, so each problem names the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> TrustRootError:
        return TrustRootError(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")

    def fields(self, item: dict[str, Any], where: str, known: frozenset[str]) -> None:
        unknown = sorted(str(k) for k in item if k not in known)
        if unknown:
            field = unknown[0] if _PLAIN_NAME.fullmatch(unknown[0]) else repr(unknown[0][:40])
            name = f"{where}.{field}" if where else field
            raise self.fail(name, "unknown field (not part of the trusted root format)")

    def object(self, value: Any, where: str, known: frozenset[str]) -> dict[str, Any]:
        if value is None:
            raise self.fail(where, "missing")
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_type_name(value)}")
        self.fields(value, where, known)
        return value

    def items(self, document: dict[str, Any], key: str) -> list[Any]:
        value = document.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {_type_name(value)}")
        if len(value) > MAX_ROOT_ENTRIES:
            raise self.fail(key, f"{len(value)} entries (at most {MAX_ROOT_ENTRIES})")
        return value

    def text(self, item: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
        value = item.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}", "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected a string, got {_type_name(value)}")
        return value

    def b64(self, item: dict[str, Any], key: str, where: str) -> bytes:
        value = item.get(key)
        if not isinstance(value, str) or not value:
            problem = "missing" if value is None else "expected non-empty base64 text"
            raise self.fail(f"{where}.{key}", problem)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self.fail(f"{where}.{key}", "not valid base64") from None

    def time(self, window: dict[str, Any], key: str, where: str) -> datetime | None:
        value = window.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected an RFC 3339 timestamp, got {_type_name(value)}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{where}.{key}", f"malformed timestamp {value[:60]!r}") from None
        if parsed.tzinfo is None:
            raise self.fail(f"{where}.{key}", f"timestamp {value[:60]!r} has no time zone")
        return parsed

    def valid_for(self, item: dict[str, Any], where: str, *, required: bool) -> ValidFor:
        window = item.get("validFor")
        name = f"{where}.validFor"
        if window is None:
            if required:
                raise self.fail(name, "missing (an authority needs its validity window)")
            return ValidFor(None, None)
        window = self.object(window, name, frozenset({"start", "end"}))
        start = self.time(window, "start", name)
        if start is None:
            # A TimeRange's start is required: a window without one is malformed, not unbounded.
            raise self.fail(f"{name}.start", "missing (a validity window needs its start)")
        return ValidFor(start, self.time(window, "end", name))


def _type_name(value: Any) -> str:
    from slsalint.jsonio import type_name

    name = type_name(value)
    return "null" if value is None else f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _authority(reader: _Reader, item: Any, where: str) -> CertificateAuthority:
    from slsalint.verify.certificates import MAX_CHAIN, CertificateError, load_der

    item = reader.object(item, where, _AUTHORITY_FIELDS)
    chain = reader.object(item.get("certChain"), f"{where}.certChain", frozenset({"certificates"}))
    certs_json = chain.get("certificates")
    if not isinstance(certs_json, list) or not certs_json:
        raise reader.fail(f"{where}.certChain.certificates", "expected a non-empty list of certificates")
    if len(certs_json) > MAX_CHAIN:
        raise reader.fail(
            f"{where}.certChain.certificates", f"{len(certs_json)} certificates (at most {MAX_CHAIN})"
        )
    certificates = []
    for i, cert in enumerate(certs_json):
        name = f"{where}.certChain.certificates[{i}]"
        cert = reader.object(cert, name, frozenset({"rawBytes"}))
        raw = reader.b64(cert, "rawBytes", name)
        try:
            certificates.append(load_der(raw, "certificate"))
        except CertificateError as exc:
            raise reader.fail(name, str(exc)) from None
    subject = reader.object(
        item.get("subject"), f"{where}.subject", frozenset({"organization", "commonName"})
    )
    for key in ("organization", "commonName"):
        reader.text(subject, key, f"{where}.subject", required=True)
    subject_text = ", ".join(f"{k}={v}" for k, v in subject.items() if isinstance(v, str))
    uri = reader.text(item, "uri", where, required=False)
    reader.text(item, "operator", where, required=False)
    return CertificateAuthority(
        certificates=tuple(certificates),
        valid_for=reader.valid_for(item, where, required=True),
        uri=uri or "",
        subject=subject_text,
    )


def _log_key(reader: _Reader, item: Any, where: str) -> LogKey | None:
    """A log key, or None for a key type this build cannot use (sigstore skips those too)."""
    item = reader.object(item, where, _LOG_FIELDS)
    base_url = reader.text(item, "baseUrl", where, required=True)
    reader.text(item, "operator", where, required=False)
    algorithm = reader.text(item, "hashAlgorithm", where, required=True)
    if algorithm not in _HASH_ALGORITHMS:
        raise reader.fail(f"{where}.hashAlgorithm", f"unknown hash algorithm {str(algorithm)[:40]!r}")
    public_key = reader.object(item.get("publicKey"), f"{where}.publicKey", _KEY_FIELDS)
    details = reader.text(public_key, "keyDetails", f"{where}.publicKey", required=True)
    if details not in _KEY_DETAILS:
        raise reader.fail(f"{where}.publicKey.keyDetails", f"unknown key type {str(details)[:60]!r}")
    raw = reader.b64(public_key, "rawBytes", f"{where}.publicKey")
    valid_for = reader.valid_for(public_key, f"{where}.publicKey", required=False)
    log_id_json = reader.object(item.get("logId"), f"{where}.logId", frozenset({"keyId"}))
    log_id = reader.b64(log_id_json, "keyId", f"{where}.logId")
    if item.get("checkpointKeyId") is not None:
        checkpoint = reader.object(item["checkpointKeyId"], f"{where}.checkpointKeyId", frozenset({"keyId"}))
        reader.b64(checkpoint, "keyId", f"{where}.checkpointKeyId")
    try:
        key = serialization.load_der_public_key(raw)
    except (ValueError, UnsupportedAlgorithm):
        raise reader.fail(
            f"{where}.publicKey.rawBytes", "not a DER SubjectPublicKeyInfo of a supported key type"
        ) from None
    try:
        checked = check_key_type(key, where)
    except KeyLoadError:
        return None
    return LogKey(log_id=log_id, key=checked, valid_for=valid_for, base_url=base_url or "")


def _without_nulls(value: Any) -> Any:
    """Protobuf JSON reads ``null`` as the default value: drop such fields, as readers of the
    format do (sigstore-python's strict models would refuse them)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _closed_tsa_windows(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` in the form sigstore-python reads: null fields dropped, the four lists present,
    and each timestamp authority's ``validFor.end`` one microsecond later (see
    ``TrustRoot.sigstore_root``)."""
    out: dict[str, Any] = _without_nulls(copy.deepcopy(document))
    for key in ("tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"):
        out.setdefault(key, [])
    for authority in out.get("timestampAuthorities") or []:
        window = authority.get("validFor") if isinstance(authority, dict) else None
        end = window.get("end") if isinstance(window, dict) else None
        if isinstance(window, dict) and isinstance(end, str):
            moved = datetime.fromisoformat(end) + timedelta(microseconds=1)
            window["end"] = moved.isoformat()
    return out
