"""Who signed: the identity in a Fulcio certificate (or a key), and the policy saying who may sign.

Matching follows cosign (``cosign verify --certificate-identity[-regexp]
--certificate-oidc-issuer[-regexp]``):

* ``identity`` / ``issuer`` are compared exactly (case-sensitive) with the certificate's subject
  alternative name (URI, e-mail or Sigstore ``otherName``) and its OIDC issuer extension.
* ``identity-regexp`` / ``issuer-regexp`` are *unanchored searches*, exactly like Go's
  ``regexp.MatchString`` that cosign calls: ``github\\.com/org/`` matches any identity containing
  it. Anchor with ``^...$`` to match the whole value. Patterns are compiled with Python's ``re``,
  which accepts the RE2 syntax cosign users write (``\\z`` is translated to ``\\Z``).
* A keyless signer must constrain both the identity and the issuer (cosign refuses to verify
  otherwise); a keyed signer names a public key instead.
* ``github`` constraints compare Fulcio's GitHub claims (workflow repository, ref, trigger, runner
  environment...) exactly, each by its cosign flag name without the ``certificate-`` prefix.
* A list of signers is an OR: the signature passes when any one signer matches it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ObjectIdentifier

from slsalint.errors import ConfigError
from slsalint.verify.keys import LoadedKey, load_public_key_file

OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_OTHERNAME = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")

LEGACY_CLAIMS: dict[str, str] = {
    "1.3.6.1.4.1.57264.1.2": "github-workflow-trigger",
    "1.3.6.1.4.1.57264.1.3": "github-workflow-sha",
    "1.3.6.1.4.1.57264.1.4": "github-workflow-name",
    "1.3.6.1.4.1.57264.1.5": "github-workflow-repository",
    "1.3.6.1.4.1.57264.1.6": "github-workflow-ref",
}
"""Fulcio's first GitHub extensions: the value is the raw UTF-8 string (no DER wrapping)."""

DER_CLAIMS: dict[str, str] = {
    "1.3.6.1.4.1.57264.1.9": "build-signer-uri",
    "1.3.6.1.4.1.57264.1.10": "build-signer-digest",
    "1.3.6.1.4.1.57264.1.11": "runner-environment",
    "1.3.6.1.4.1.57264.1.12": "source-repository-uri",
    "1.3.6.1.4.1.57264.1.13": "source-repository-digest",
    "1.3.6.1.4.1.57264.1.14": "source-repository-ref",
    "1.3.6.1.4.1.57264.1.15": "source-repository-identifier",
    "1.3.6.1.4.1.57264.1.16": "source-repository-owner-uri",
    "1.3.6.1.4.1.57264.1.17": "source-repository-owner-identifier",
    "1.3.6.1.4.1.57264.1.18": "build-config-uri",
    "1.3.6.1.4.1.57264.1.19": "build-config-digest",
    "1.3.6.1.4.1.57264.1.20": "build-trigger",
    "1.3.6.1.4.1.57264.1.21": "run-invocation-uri",
    "1.3.6.1.4.1.57264.1.22": "source-repository-visibility-at-signing",
}
"""Fulcio's newer extensions (``.1.8`` onwards): the value is a DER-encoded UTF8String."""

CLAIM_NAMES = frozenset(LEGACY_CLAIMS.values()) | frozenset(DER_CLAIMS.values())

_ISSUER_V1 = "\x00issuer-v1"
_ISSUER_V2 = "\x00issuer-v2"
_FULCIO_OIDS: dict[ObjectIdentifier, tuple[str, bool]] = {
    OID_ISSUER_V1: (_ISSUER_V1, False),
    OID_ISSUER_V2: (_ISSUER_V2, True),
    **{ObjectIdentifier(oid): (name, False) for oid, name in LEGACY_CLAIMS.items()},
    **{ObjectIdentifier(oid): (name, True) for oid, name in DER_CLAIMS.items()},
}
"""Extension OID -> (claim name, value is DER-wrapped); looked up by OID object (fast)."""


@dataclass(frozen=True)
class SignerIdentity:
    """Who produced a verified signature: a Fulcio certificate identity, or a public key."""

    subject: str | None
    """The certificate's SAN (URI, e-mail or Sigstore otherName); None for a key."""
    issuer: str | None
    """The OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, else .1.1)."""
    github: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Fulcio claims by name (see ``LEGACY_CLAIMS`` / ``DER_CLAIMS``)."""
    certificate: x509.Certificate | None = field(default=None, repr=False)
    """The signing certificate (keyless signatures)."""
    public_key_fingerprint: str | None = None
    """``sha256:`` of the plain key's SubjectPublicKeyInfo (keyed signatures)."""

    @property
    def keyless(self) -> bool:
        return self.certificate is not None

    @cached_property
    def certificate_der(self) -> bytes | None:
        if self.certificate is None:
            return None
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @cached_property
    def certificate_pem(self) -> str | None:
        if self.certificate is None:
            return None
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @cached_property
    def key_fingerprint(self) -> str | None:
        """``sha256:`` of the signing key's SubjectPublicKeyInfo (certificate key or plain key)."""
        if self.certificate is not None:
            return spki_fingerprint(self.certificate)
        return self.public_key_fingerprint

    def describe(self) -> str:
        if self.subject is not None:
            return f"{self.subject} (issuer {self.issuer or 'unknown'})"
        return f"key {self.key_fingerprint}"

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> SignerIdentity:
        subject, issuer, claims = certificate_claims(certificate)
        return cls(subject=subject, issuer=issuer, github=claims, certificate=certificate)

    @classmethod
    def from_key(cls, key: LoadedKey) -> SignerIdentity:
        return cls(subject=None, issuer=None, public_key_fingerprint=key.fingerprint)


def spki_fingerprint(certificate: x509.Certificate) -> str:
    """``sha256:`` of the certificate's SubjectPublicKeyInfo (same as a plain key's fingerprint)."""
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _der_utf8(value: bytes) -> str | None:
    """Decode a DER UTF8String / IA5String / PrintableString; None when it is not one."""
    if len(value) < 2 or value[0] not in (0x0C, 0x16, 0x13):
        return None
    length = value[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(value) < 2 + count:
            return None
        length = int.from_bytes(value[2 : 2 + count], "big")
        offset = 2 + count
    if offset + length != len(value):
        return None
    try:
        return value[offset:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def certificate_claims(certificate: x509.Certificate) -> tuple[str | None, str | None, dict[str, str]]:
    """(SAN identity, OIDC issuer, GitHub claims) of a Fulcio certificate."""
    subject: str | None = None
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        emails = san.get_values_for_type(x509.RFC822Name)
        others = [
            text
            for other in san.get_values_for_type(x509.OtherName)
            if other.type_id == OID_OTHERNAME and (text := _der_utf8(other.value)) is not None
        ]
        candidates = uris or emails or others
        subject = candidates[0] if candidates else None
    issuer_v1: str | None = None
    issuer_v2: str | None = None
    claims: dict[str, str] = {}
    for extension in certificate.extensions:
        spec = _FULCIO_OIDS.get(extension.oid)
        if spec is None:
            continue
        value = extension.value
        if not isinstance(value, x509.UnrecognizedExtension):
            continue
        name, der = spec
        text = _der_utf8(value.value) if der else value.value.decode("utf-8", "replace")
        if text is None:
            continue
        if name == _ISSUER_V1:
            issuer_v1 = text
        elif name == _ISSUER_V2:
            issuer_v2 = text
        else:
            claims[name] = text
    return subject, issuer_v2 or issuer_v1, claims


def _quoted(value: str | None) -> str:
    """``'value'`` as the user wrote it (no escaping of backslashes, unlike ``repr``)."""
    return "none" if value is None else f"'{value}'"


_RE2_END = re.compile(r"(?<!\\)((?:\\\\)*)\\z")


def compile_go_regexp(pattern: str, *, what: str) -> re.Pattern[str]:
    """Compile a cosign (Go RE2) pattern; raises ConfigError naming ``what`` when invalid."""
    translated = _RE2_END.sub(lambda m: m.group(1) + r"\Z", pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise ConfigError(f"{what}: invalid regular expression {pattern!r}: {exc}") from None


@dataclass(frozen=True)
class SignerPolicy:
    """One allowed signer (a ``signers:`` entry, or the ``--certificate-*`` / ``--key`` flags)."""

    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    issuer_regexp: str | None = None
    key: LoadedKey | Path | None = None
    """A keyed signer: the public key, or the path of its PEM file (loaded on first use)."""
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Required image-signature annotations (``--annotations k=v``; SL206)."""
    github: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Required Fulcio GitHub claims by name, e.g. ``{"github-workflow-repository": "org/repo"}``."""
    name: str = ""
    """How messages refer to this signer (``signers[1]``, ``--certificate-identity``)."""

    def __post_init__(self) -> None:
        label = self.name or "signer"
        if self.key is not None:
            if self.identity or self.identity_regexp or self.issuer or self.issuer_regexp or self.github:
                raise ConfigError(f"{label}: a key signer cannot also constrain certificate identity")
            return
        if not (self.identity or self.identity_regexp):
            raise ConfigError(
                f"{label}: a keyless signer needs 'identity' or 'identity-regexp' "
                "(cosign --certificate-identity[-regexp])"
            )
        if not (self.issuer or self.issuer_regexp):
            raise ConfigError(
                f"{label}: a keyless signer needs 'issuer' or 'issuer-regexp' "
                "(cosign --certificate-oidc-issuer[-regexp])"
            )
        unknown = sorted(set(self.github) - CLAIM_NAMES)
        if unknown:
            raise ConfigError(
                f"{label}: unknown GitHub claim(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(CLAIM_NAMES))}"
            )
        for pattern, what in (
            (self.identity_regexp, "identity-regexp"),
            (self.issuer_regexp, "issuer-regexp"),
        ):
            if pattern is not None:
                compile_go_regexp(pattern, what=f"{label} {what}")

    @property
    def keyless(self) -> bool:
        return self.key is None

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any], *, name: str, base: Path | None = None) -> SignerPolicy:
        """One ``signers:`` entry of the policy file (kebab-case keys, as in SPEC §5).

        ``key`` paths are relative to ``base`` (the policy file's directory). Unknown keys and
        wrong types raise ConfigError naming the entry.
        """
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{name}: a signer must be a mapping")
        unknown = sorted(set(entry) - _POLICY_KEYS)
        if unknown:
            raise ConfigError(f"{name}: unknown key(s) {', '.join(map(str, unknown))}")

        def text(key: str) -> str | None:
            value = entry.get(key)
            if value is None:
                return None
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name}: '{key}' must be a non-empty string")
            return value

        def string_map(key: str) -> dict[str, str]:
            value = entry.get(key) or {}
            if isinstance(value, list):
                return parse_annotations(value, what=f"{name} {key}")
            if not isinstance(value, Mapping):
                raise ConfigError(f"{name}: '{key}' must map names to strings")
            out = {}
            for item_key, item in value.items():
                if not isinstance(item_key, str) or not isinstance(item, str | int | float | bool):
                    raise ConfigError(f"{name}: '{key}' must map names to strings")
                # YAML turns `tag: true` or `build: 42` into scalars; compare them as cosign's text
                out[item_key] = ("true" if item else "false") if isinstance(item, bool) else str(item)
            return out

        key_path = text("key")
        key: Path | None = None
        if key_path is not None:
            key = Path(key_path)
            if base is not None and not key.is_absolute():
                key = base / key
        return cls(
            identity=text("identity"),
            identity_regexp=text("identity-regexp"),
            issuer=text("issuer"),
            issuer_regexp=text("issuer-regexp"),
            key=key,
            annotations=string_map("annotations"),
            github=string_map("github"),
            name=name,
        )

    def loaded_key(self) -> LoadedKey:
        """The key of a keyed signer (raises KeyLoadError when its file is unusable)."""
        if isinstance(self.key, LoadedKey):
            return self.key
        if self.key is None:
            raise ValueError("not a keyed signer")
        loaded = load_public_key_file(self.key)
        object.__setattr__(self, "key", loaded)
        return loaded

    def describe(self) -> str:
        if self.key is not None:
            source = self.key.source if isinstance(self.key, LoadedKey) else str(self.key)
            return f"key {source}"
        parts = []
        if self.identity is not None:
            parts.append(f"identity {_quoted(self.identity)}")
        if self.identity_regexp is not None:
            parts.append(f"identity-regexp {_quoted(self.identity_regexp)}")
        if self.issuer is not None:
            parts.append(f"issuer {_quoted(self.issuer)}")
        if self.issuer_regexp is not None:
            parts.append(f"issuer-regexp {_quoted(self.issuer_regexp)}")
        parts += [f"{k} {_quoted(v)}" for k, v in sorted(self.github.items())]
        return ", ".join(parts)

    def mismatch(self, identity: SignerIdentity) -> str | None:
        """Why ``identity`` is not this signer, or None when it is. The reason names the
        constraint that failed, not the identity's own values (the caller names the signer once)."""
        if self.key is not None:
            wanted = self.loaded_key().fingerprint
            if identity.key_fingerprint != wanted:
                return f"signing key is not {self.describe()} ({wanted})"
            return None
        if not identity.keyless:
            return "signed with a key, not a certificate"
        label = self.name or "signer"
        subject = identity.subject or ""
        issuer = identity.issuer or ""
        if self.identity is not None and subject != self.identity:
            return f"identity is not {_quoted(self.identity)}"
        if self.identity_regexp is not None and not compile_go_regexp(
            self.identity_regexp, what=f"{label} identity-regexp"
        ).search(subject):
            return f"identity does not match {_quoted(self.identity_regexp)}"
        if self.issuer is not None and issuer != self.issuer:
            return f"issuer is not {_quoted(self.issuer)}"
        if self.issuer_regexp is not None and not compile_go_regexp(
            self.issuer_regexp, what=f"{label} issuer-regexp"
        ).search(issuer):
            return f"issuer does not match {_quoted(self.issuer_regexp)}"
        for claim, wanted_value in sorted(self.github.items()):
            actual = identity.github.get(claim)
            if actual != wanted_value:
                return f"{claim} is {_quoted(actual)}, not {_quoted(wanted_value)}"
        return None


_POLICY_KEYS = frozenset(
    {"identity", "identity-regexp", "issuer", "issuer-regexp", "key", "annotations", "github"}
)


def parse_annotations(items: Iterable[Any], *, what: str = "--annotations") -> dict[str, str]:
    """``["tag=v1.2", "env=prod"]`` (cosign ``-a k=v``) as a mapping; ConfigError when malformed."""
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise ConfigError(f"{what}: expected KEY=VALUE, got {item!r}")
        key, _, value = item.partition("=")
        out[key] = value
    return out


def match(identity: SignerIdentity, policies: Iterable[SignerPolicy]) -> tuple[bool, str]:
    """Whether ``identity`` is one of the allowed signers, and a one-line reason either way.

    A failing reason names the constraints that failed, never the identity itself (messages name
    the signer once, next to it). An empty policy list allows any signer (the reason says so);
    callers that require a signer must check for that themselves.
    """
    allowed = list(policies)
    if not allowed:
        return True, f"no signer constraint; signed by {identity.describe()}"
    reasons = []
    for index, policy in enumerate(allowed):
        why = policy.mismatch(identity)
        if why is None:
            return True, f"signed by {identity.describe()}, allowed by {policy.name or policy.describe()}"
        reasons.append(f"{policy.name or f'signer {index + 1}'}: {why}")
    if len(reasons) == 1:
        return False, f"is not an allowed signer ({reasons[0]})"
    return False, f"matches none of {len(reasons)} allowed signers ({'; '.join(reasons)})"
