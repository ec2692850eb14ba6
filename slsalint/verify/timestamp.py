"""RFC 3161 signed timestamps in bundles, checked against the trusted root's timestamp authorities."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slsalint.verify.shape import proto_bytes
from slsalint.verify.trust import TrustRoot

MAX_TIMESTAMPS = 32


def bundle_timestamps(verification_material: dict[str, Any]) -> list[bytes]:
    data = verification_material.get("timestampVerificationData")
    if not isinstance(data, dict):
        return []
    items = data.get("rfc3161Timestamps") or []
    out = []
    for item in items if isinstance(items, list) else []:
        value = item.get("signedTimestamp") if isinstance(item, dict) else None
        if isinstance(value, str):
            try:
                out.append(proto_bytes(value))
            except ValueError:
                continue
    return out


def verified_times(timestamps: Sequence[bytes], signature: bytes, trust: TrustRoot) -> list[datetime]:
    """Times of the timestamps over ``signature`` that a trusted authority signed (may be empty)."""
    return [when for when, _ in _judge(timestamps, signature, trust) if when is not None]


def timestamp_problem(timestamps: Sequence[bytes], signature: bytes, trust: TrustRoot) -> str | None:
    """Why none of the signed timestamps gives a trusted signing time (None: one does, or there is
    none to judge): one line, a reason per timestamp."""
    if not timestamps:
        return None
    judged = _judge(timestamps, signature, trust)
    if any(when is not None for when, _ in judged):
        return None
    if not trust.tsa:
        return (
            f"the bundle carries a signed timestamp, but the trusted root ({trust.source}) lists no "
            "timestamp authority to verify it"
        )
    if len(timestamps) > MAX_TIMESTAMPS:
        return f"the bundle carries {len(timestamps)} signed timestamps (at most {MAX_TIMESTAMPS} are judged)"
    reasons = list(dict.fromkeys(why for _, why in judged if why))
    return "signed timestamp does not give a trusted signing time: " + "; ".join(reasons)


_OPENSSL_DETAIL = re.compile(r'(?:reason|data): "([^"]+)"')


def _short(exc: BaseException) -> str:
    text = str(exc)
    details = _OPENSSL_DETAIL.findall(text)
    if details:
        return ", ".join(dict.fromkeys(details))
    return " ".join(text.split())[:200] or type(exc).__name__


def _judge(
    timestamps: Sequence[bytes], signature: bytes, trust: TrustRoot
) -> list[tuple[datetime | None, str | None]]:
    """(trusted time, None) or (None, why not) for each timestamp."""
    if not timestamps or not trust.tsa or len(timestamps) > MAX_TIMESTAMPS:
        return []
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    out: list[tuple[datetime | None, str | None]] = []
    for number, raw in enumerate(timestamps):
        name = f"timestamp {number}"
        try:
            response = decode_timestamp_response(raw)
        except ValueError as exc:
            out.append((None, f"{name} is not an RFC 3161 timestamp response ({_short(exc)})"))
            continue
        why: str | None = None
        trusted: datetime | None = None
        for authority in trust.tsa:
            certificates = authority.certificates
            if len(certificates) < 2:
                why = why or f"{name}: the trusted root's timestamp authority has an incomplete chain"
                continue
            builder = (
                VerifierBuilder().tsa_certificate(certificates[0]).add_root_certificate(certificates[-1])
            )
            for intermediate in certificates[1:-1]:
                builder = builder.add_intermediate_certificate(intermediate)
            try:
                builder.build().verify_message(response, signature)
            except VerificationError as exc:
                detail = _short(exc)
                if "mismatch between messages" in detail.lower():
                    why = f"{name} is over other data than this signature"
                elif why is None or "not signed" in why:
                    why = f"{name} is not signed by a timestamp authority of the trusted root ({detail})"
                continue
            when = response.tst_info.gen_time
            if authority.valid_for.contains(when):
                trusted = when
                break
            why = (
                f"{name} is dated {when.isoformat()}, outside the validity of its timestamp authority "
                f"in the trusted root ({authority.valid_for})"
            )
        out.append((trusted, None) if trusted is not None else (None, why or f"{name} does not verify"))
    return out
