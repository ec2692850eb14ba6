"""The shape of a Sigstore bundle (protobuf-specs ``dev.sigstore.bundle.v1.Bundle`` in its JSON
form), checked before any verifier reads it.

Every field slsalint or sigstore-python reads is checked for its JSON type, and lists and texts are
bounded, so that a bundle with a wrong type anywhere (``kindVersion.kind`` as a list, a number where
base64 is expected, a negative log index) is one :class:`ShapeError` naming the field
(``verificationMaterial.tlogEntries[0].kindVersion.kind: expected a string, got an array``) and
becomes an SL105 finding, never an exception inside verification. Unknown fields are ignored, as
protobuf JSON readers do; the verifiers never look at them. A field spelled with its protobuf name
(``tlog_entries`` for ``tlogEntries``) is refused: protobuf JSON readers, sigstore-python's among
them, read both spellings, so a check that knew only one would not see what the verifier reads.

Protobuf JSON writes 64-bit integers as decimal strings (a JSON number is accepted too) and omits
fields that hold their default value (``0``, ``""``, empty lists). Bytes are standard base64
(padding optional, line breaks ignored).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slsalint.jsonio import type_name

MAX_TLOG_ENTRIES = 8
MAX_TIMESTAMPS = 32
MAX_SIGNATURES = 16
MAX_CHAIN = 10
MAX_PROOF_HASHES = 64
"""A Merkle audit path in a tree of up to 2^64 leaves."""
MAX_TEXT = 1024 * 1024
"""Longest text field (base64 bodies and payloads included)."""
MAX_SHORT_TEXT = 1024
"""Longest short text (media types, kinds, versions, key ids, hints)."""

_UINT = re.compile(r"\A[0-9]{1,20}\Z")
_INT = re.compile(r"\A-?[0-9]{1,20}\Z")


class ShapeError(ValueError):
    """A bundle field of the wrong type or size; ``str()`` is one line naming the field."""


Check = Callable[[Any, str], None]


def _article(value: Any) -> str:
    name = type_name(value)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _string(limit: int = MAX_SHORT_TEXT) -> Check:
    def check(value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise ShapeError(f"{where}: expected a string, got {_article(value)}")
        if len(value) > limit:
            raise ShapeError(f"{where}: {len(value)} characters (at most {limit})")

    return check


_BASE64 = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")


def proto_bytes(value: str) -> bytes:
    """Decode a protobuf JSON ``bytes`` value: standard base64, padded or not; line breaks are
    ignored, as Go's decoder (cosign, protojson) ignores them. Raises ValueError otherwise."""
    if len(value) % 4 == 0 and "\n" not in value and "\r" not in value:
        try:  # the common case, decoded and validated in C
            return binascii.a2b_base64(value, strict_mode=True)
        except binascii.Error:
            pass
    text = value.replace("\r", "").replace("\n", "") if ("\n" in value or "\r" in value) else value
    if not _BASE64.match(text):
        raise ValueError("not valid base64")
    unpadded = text.rstrip("=")
    if len(unpadded) % 4 == 1:
        raise ValueError("not valid base64 (truncated)")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None


def _base64(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise ShapeError(f"{where}: expected base64 text, got {_article(value)}")
    if len(value) > MAX_TEXT:
        raise ShapeError(f"{where}: {len(value)} characters (at most {MAX_TEXT})")
    try:
        proto_bytes(value)
    except ValueError as exc:
        raise ShapeError(f"{where}: {exc}") from None


def _integer(*, unsigned: bool) -> Check:
    def check(value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ShapeError(f"{where}: expected an integer, got {_article(value)}")
        text = str(value)
        if not (_UINT if unsigned else _INT).match(text):
            if unsigned and _INT.match(text):
                raise ShapeError(f"{where}: must not be negative (got {text})")
            raise ShapeError(f"{where}: expected an integer, got {text[:40]!r}")
        if int(text) >= 2**63:
            raise ShapeError(f"{where}: {text} is out of the int64 range")

    return check


def _proto_name(json_name: str) -> str:
    """The protobuf field name of a JSON field name (``tlogEntries`` -> ``tlog_entries``)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), json_name)


@dataclass(frozen=True)
class _Object:
    fields: Mapping[str, Check]
    required: frozenset[str] = frozenset()
    one_of: tuple[str, ...] = ()
    """At most one of these fields may be set (protobuf ``oneof``)."""
    proto_names: Mapping[str, str] = field(init=False, repr=False, compare=False)
    """Protobuf name -> JSON name, for the fields whose two spellings differ."""

    def __post_init__(self) -> None:
        names = {_proto_name(name): name for name in self.fields if _proto_name(name) != name}
        object.__setattr__(self, "proto_names", names)

    def __call__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected an object, got {_article(value)}")
        if self.proto_names:
            for key in value:
                json_name = self.proto_names.get(key)
                if json_name is not None:
                    raise ShapeError(
                        f"{_join(where, key)}: the protobuf name of {json_name!r}, which slsalint reads "
                        f"only as {json_name!r} (write the bundle in protobuf JSON's own field names)"
                    )
        for name in sorted(self.required):
            if value.get(name) is None:
                raise ShapeError(f"{_join(where, name)}: missing")
        present = [name for name in self.one_of if value.get(name) is not None]
        if len(present) > 1:
            raise ShapeError(f"{where}: holds both {present[0]!r} and {present[1]!r} (only one may be set)")
        for name, check in self.fields.items():
            item = value.get(name)
            if item is not None:
                check(item, _join(where, name))


@dataclass(frozen=True)
class _List:
    item: Check
    limit: int
    non_empty: bool = False

    def __call__(self, value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise ShapeError(f"{where}: expected a list, got {_article(value)}")
        if self.non_empty and not value:
            raise ShapeError(f"{where}: is empty")
        if len(value) > self.limit:
            raise ShapeError(f"{where}: {len(value)} entries (at most {self.limit})")
        for i, item in enumerate(value):
            self.item(item, f"{where}[{i}]")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


_UINT64 = _integer(unsigned=True)
_RAW_BYTES = _Object({"rawBytes": _base64}, frozenset({"rawBytes"}))

TLOG_ENTRY = _Object(
    {
        "logIndex": _UINT64,
        "logId": _Object({"keyId": _base64}, frozenset({"keyId"})),
        "kindVersion": _Object({"kind": _string(), "version": _string()}, frozenset({"kind", "version"})),
        "integratedTime": _UINT64,
        "inclusionPromise": _Object({"signedEntryTimestamp": _base64}, frozenset({"signedEntryTimestamp"})),
        "inclusionProof": _Object(
            {
                "logIndex": _UINT64,
                "rootHash": _base64,
                "treeSize": _UINT64,
                "hashes": _List(_base64, MAX_PROOF_HASHES),
                "checkpoint": _Object({"envelope": _string(MAX_TEXT)}, frozenset({"envelope"})),
            },
            frozenset({"rootHash", "treeSize"}),
        ),
        "canonicalizedBody": _base64,
    },
    frozenset({"logId", "kindVersion"}),
)

VERIFICATION_MATERIAL = _Object(
    {
        "publicKey": _Object({"hint": _string()}),
        "x509CertificateChain": _Object(
            {"certificates": _List(_RAW_BYTES, MAX_CHAIN, non_empty=True)}, frozenset({"certificates"})
        ),
        "certificate": _RAW_BYTES,
        "tlogEntries": _List(TLOG_ENTRY, MAX_TLOG_ENTRIES),
        "timestampVerificationData": _Object(
            {
                "rfc3161Timestamps": _List(
                    _Object({"signedTimestamp": _base64}, frozenset({"signedTimestamp"})), MAX_TIMESTAMPS
                )
            }
        ),
    },
    one_of=("publicKey", "x509CertificateChain", "certificate"),
)

BUNDLE = _Object(
    {
        "mediaType": _string(),
        "verificationMaterial": VERIFICATION_MATERIAL,
        "dsseEnvelope": _Object(
            {
                "payload": _base64,
                "payloadType": _string(),
                "signatures": _List(
                    _Object({"sig": _base64, "keyid": _string()}, frozenset({"sig"})),
                    MAX_SIGNATURES,
                    non_empty=True,
                ),
            },
            frozenset({"payload", "payloadType", "signatures"}),
        ),
        "messageSignature": _Object(
            {
                "messageDigest": _Object({"algorithm": _string(), "digest": _base64}, frozenset({"digest"})),
                "signature": _base64,
            },
            frozenset({"signature"}),
        ),
    },
    frozenset({"mediaType", "verificationMaterial"}),
    one_of=("dsseEnvelope", "messageSignature"),
)


def check_bundle(document: Any) -> None:
    """Raise ShapeError (one line naming the field) unless ``document`` has a bundle's shape."""
    if not isinstance(document, dict):
        raise ShapeError(f"bundle is not a JSON object (it is {_article(document)})")
    BUNDLE(document, "")
