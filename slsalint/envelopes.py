"""Decoding of attestation containers: DSSE envelopes, Sigstore bundles, JSON Lines, raw statements.

Decoding never verifies signatures; it only turns bytes into in-toto statements and says clearly
what is wrong when it cannot. All JSON is read with ``slsalint.jsonio`` (NaN, Infinity, overflowing
numbers, over-long integers, deep nesting and lone surrogates are refused), and signed payloads
also refuse duplicate keys, since two parsers may disagree on which value was signed. Every failure
is a ``DecodeError`` with one line naming the document (and the line of a JSON Lines file).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from slsalint import jsonio

DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUNDLE_MEDIA_TYPES = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1": "0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2": "0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3": "0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json": "0.3",
}
STATEMENT_TYPES = frozenset({"https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1"})


class DecodeError(ValueError):
    """Bytes that are not a well-formed attestation container. The message is one line."""


@dataclass(frozen=True)
class Decoded:
    """One in-toto statement and the container it came in."""

    envelope: str
    """``statement`` (raw, unsigned), ``dsse`` or ``bundle``."""
    statement: dict[str, Any]
    payload: bytes
    """The exact bytes of the statement (the signed payload for DSSE and bundles)."""
    container: dict[str, Any] | None = None
    """The DSSE envelope or Sigstore bundle, kept for signature verification."""
    bundle_version: str | None = None
    line: int | None = None
    """1-based line number inside a JSON Lines file."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: what a DSSE signature is computed over."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


_B64_STD = re.compile(rb"\A[A-Za-z0-9+/]*={0,2}\Z")
_B64_URL = re.compile(rb"\A[A-Za-z0-9_-]*={0,2}\Z")


def b64decode(value: str | bytes, *, what: str = "value") -> bytes:
    """Decode standard or URL-safe base64, padded or not. Anything else raises DecodeError."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    raw = raw.strip()
    if _B64_STD.match(raw):
        alphabet_std = True
    elif _B64_URL.match(raw):
        alphabet_std = False
    else:
        raise DecodeError(f"{what} is not valid base64")
    unpadded = raw.rstrip(b"=")
    if len(unpadded) % 4 == 1:
        raise DecodeError(f"{what} is not valid base64 (truncated)")
    padded = unpadded + b"=" * (-len(unpadded) % 4)
    try:
        if alphabet_std:
            return base64.b64decode(padded, validate=True)
        return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"{what} is not valid base64: {exc}") from None


def parse_json(data: bytes | str, where: str, *, signed: bool = False) -> Any:
    """One JSON document, strictly (``slsalint.jsonio``); ``signed`` also refuses duplicate keys.
    Raises DecodeError naming ``where``."""
    try:
        return jsonio.loads(data, unique_keys=signed)
    except jsonio.JSONError as exc:
        raise DecodeError(f"{where}: {exc}") from None


def _check_statement(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DecodeError(f"{where} is not a JSON object")
    kind = obj.get("_type")
    if not isinstance(kind, str):
        raise DecodeError(f"{where} is not an in-toto statement (no '_type')")
    if kind not in STATEMENT_TYPES:
        raise DecodeError(f"{where} has unsupported in-toto statement type {kind!r}")
    return obj


def decode_dsse(envelope: Any, *, where: str = "DSSE envelope") -> Decoded:
    """Decode a DSSE envelope holding an in-toto statement."""
    if not isinstance(envelope, dict):
        raise DecodeError(f"{where} is not a JSON object")
    payload_type = envelope.get("payloadType")
    payload_b64 = envelope.get("payload")
    signatures = envelope.get("signatures")
    if not isinstance(payload_type, str):
        raise DecodeError(f"{where} has no string 'payloadType'")
    if not isinstance(payload_b64, str):
        raise DecodeError(f"{where} has no string 'payload'")
    if not isinstance(signatures, list):
        raise DecodeError(f"{where} has no 'signatures' list")
    for i, sig in enumerate(signatures):
        if not isinstance(sig, dict) or not isinstance(sig.get("sig"), str):
            raise DecodeError(f"{where} signature {i} has no string 'sig'")
        b64decode(sig["sig"], what=f"{where} signature {i}")
        keyid = sig.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise DecodeError(f"{where} signature {i} has a non-string 'keyid'")
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise DecodeError(f"{where} has payloadType {payload_type!r}, expected {IN_TOTO_PAYLOAD_TYPE!r}")
    payload = b64decode(payload_b64, what=f"{where} payload")
    statement = _check_statement(parse_json(payload, f"{where} payload", signed=True), f"{where} payload")
    return Decoded("dsse", statement, payload, container=envelope)


def decode_bundle(bundle: Any, *, where: str = "Sigstore bundle") -> Decoded:
    """Decode a Sigstore bundle (v0.1 to v0.3) carrying a DSSE envelope."""
    if not isinstance(bundle, dict):
        raise DecodeError(f"{where} is not a JSON object")
    media_type = bundle.get("mediaType")
    version = BUNDLE_MEDIA_TYPES.get(media_type) if isinstance(media_type, str) else None
    if version is None:
        raise DecodeError(f"{where} has unsupported media type {media_type!r}")
    if not isinstance(bundle.get("verificationMaterial"), dict):
        raise DecodeError(f"{where} has no 'verificationMaterial'")
    if "dsseEnvelope" not in bundle:
        if "messageSignature" in bundle:
            raise DecodeError(f"{where} holds a message signature, not an in-toto attestation")
        raise DecodeError(f"{where} has neither 'dsseEnvelope' nor 'messageSignature'")
    inner = decode_dsse(bundle["dsseEnvelope"], where=f"{where} dsseEnvelope")
    return Decoded("bundle", inner.statement, inner.payload, container=bundle, bundle_version=version)


def decode_object(obj: Any, *, where: str, raw: bytes = b"") -> Decoded:
    """Decode one JSON value: a Sigstore bundle, a DSSE envelope or a raw statement (whose payload
    is ``raw``, the bytes it was read from)."""
    if isinstance(obj, dict):
        if "mediaType" in obj and ("verificationMaterial" in obj or "dsseEnvelope" in obj):
            return decode_bundle(obj, where=where)
        if "dsseEnvelope" in obj or "verificationMaterial" in obj:
            return decode_bundle(obj, where=where)
        if "payloadType" in obj or "signatures" in obj:
            return decode_dsse(obj, where=where)
        if "_type" in obj:
            statement = _check_statement(obj, where)
            return Decoded("statement", statement, raw)
    raise DecodeError(f"{where} is not a DSSE envelope, Sigstore bundle or in-toto statement")


def decode_document(data: bytes, *, name: str, media_type: str | None = None) -> list[Decoded]:
    """Decode a file or blob: one JSON document, or JSON Lines of documents.

    A document is JSON Lines when its name ends in ``.jsonl``, or when it is not one JSON document
    but its first line is (several documents on separate lines). Blank lines of JSON Lines are
    skipped. Raises DecodeError naming ``name`` (and the line) for the first malformed document:
    a file with a bad line is not partially accepted.
    """
    if not data.strip():
        raise DecodeError(f"{name}: empty")
    if media_type == IN_TOTO_MEDIA_TYPE:
        statement = _check_statement(parse_json(data, name), name)
        return [Decoded("statement", statement, data)]
    if media_type == DSSE_MEDIA_TYPE:
        return [decode_dsse(parse_json(data, name), where=name)]
    if media_type is not None and media_type in BUNDLE_MEDIA_TYPES:
        return [decode_bundle(parse_json(data, name), where=name)]
    if not name.endswith(".jsonl"):
        try:
            obj = parse_json(data, name)
        except DecodeError:
            lines = data.splitlines()
            first = next((line for line in lines if line.strip()), b"")
            if len(lines) < 2 or not _is_json(first):
                raise
        else:
            return [decode_object(obj, where=name, raw=data)]
    else:
        lines = data.splitlines()
    out: list[Decoded] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name} line {lineno}"
        item = decode_object(parse_json(line, where), where=where, raw=line.strip())
        out.append(
            Decoded(item.envelope, item.statement, item.payload, item.container, item.bundle_version, lineno)
        )
    return out


def _is_json(line: bytes) -> bool:
    try:
        jsonio.loads(line)
    except jsonio.JSONError:
        return False
    return True
