"""RFC 3161 signed timestamps in bundles, checked against the trusted root's timestamp authorities."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
                out.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    return out


def verified_times(timestamps: Sequence[bytes], signature: bytes, trust: TrustRoot) -> list[datetime]:
    """Times of the timestamps over ``signature`` that a trusted authority signed (may be empty)."""
    if not timestamps or not trust.tsa or len(timestamps) > MAX_TIMESTAMPS:
        return []
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    times = []
    for raw in timestamps:
        try:
            response = decode_timestamp_response(raw)
        except ValueError:
            continue
        for authority in trust.tsa:
            certificates = authority.certificates
            if len(certificates) < 2:
                continue
            builder = (
                VerifierBuilder().tsa_certificate(certificates[0]).add_root_certificate(certificates[-1])
            )
            for intermediate in certificates[1:-1]:
                builder = builder.add_intermediate_certificate(intermediate)
            try:
                builder.build().verify_message(response, signature)
            except VerificationError:
                continue
            when = response.tst_info.gen_time
            if authority.valid_for.contains(when):
                times.append(when)
                break
    return times
