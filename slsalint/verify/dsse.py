"""Bare DSSE envelopes: verified with public keys, or (legacy slsa-github-generator) with the
Fulcio certificate each signature carries.

cosign writes ``keyid: ""``; a key id is only a hint, so every given key is tried whatever the
envelope says.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slsalint.envelopes import pae
from slsalint.verify.bundle import subject_digests
from slsalint.verify.certificates import CertificateError, load_pem
from slsalint.verify.chain import chain_problem, profile_problem
from slsalint.verify.identity import SignerIdentity
from slsalint.verify.keys import LoadedKey, verify_signature
from slsalint.verify.result import (
    ENVELOPE_INVALID,
    SIGNATURE_INVALID,
    TLOG_MISSING,
    Method,
    Verification,
    VerificationProblem,
)
from slsalint.verify.trust import TrustRoot


class EnvelopeError(ValueError):
    """A DSSE envelope that is not well-formed (one-line message)."""


@dataclass(frozen=True)
class DsseSignature:
    sig: bytes
    keyid: str
    cert: str | None
    """A PEM certificate carried next to the signature (legacy slsa-github-generator)."""


@dataclass(frozen=True)
class DsseEnvelope:
    payload_type: str
    payload: bytes
    payload_b64: str
    signatures: tuple[DsseSignature, ...]

    @property
    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    @classmethod
    def parse(cls, envelope: Mapping[str, Any]) -> DsseEnvelope:
        payload_type = envelope.get("payloadType")
        payload_b64 = envelope.get("payload")
        signatures = envelope.get("signatures")
        if not isinstance(payload_type, str):
            raise EnvelopeError("DSSE envelope has no string 'payloadType'")
        if not isinstance(payload_b64, str):
            raise EnvelopeError("DSSE envelope has no string 'payload'")
        if not isinstance(signatures, list) or not signatures:
            raise EnvelopeError("DSSE envelope has no signatures")
        payload = _b64(payload_b64, "DSSE payload")
        parsed = []
        for i, item in enumerate(signatures):
            if not isinstance(item, dict):
                raise EnvelopeError(f"DSSE signature {i} is not an object")
            keyid = item.get("keyid")
            cert = item.get("cert")
            parsed.append(
                DsseSignature(
                    sig=_b64(item.get("sig"), f"DSSE signature {i}"),
                    keyid=keyid if isinstance(keyid, str) else "",
                    cert=cert if isinstance(cert, str) and cert.strip() else None,
                )
            )
        return cls(payload_type, payload, payload_b64, tuple(parsed))


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise EnvelopeError(f"{what} is not valid base64") from None


def verify_dsse_with_keys(envelope: Mapping[str, Any], keys: Sequence[LoadedKey]) -> Verification:
    """A DSSE envelope signed with one of ``keys`` (any signature, any key: key ids are hints)."""
    try:
        parsed = DsseEnvelope.parse(envelope)
    except EnvelopeError as exc:
        return Verification.failed("key", ENVELOPE_INVALID, str(exc))
    if not keys:
        return Verification.failed(
            "key", SIGNATURE_INVALID, "no public key given to verify the DSSE envelope"
        )
    message = parsed.pae
    for key in keys:
        if any(key.verify(signature.sig, message) for signature in parsed.signatures):
            return Verification(
                verified=True,
                method="key",
                identity=SignerIdentity.from_key(key),
                payload_type=parsed.payload_type,
                payload=parsed.payload,
                subject_digests=subject_digests(parsed.payload),
            )
    sources = ", ".join(k.source or k.fingerprint for k in keys)
    return Verification.failed(
        "key", SIGNATURE_INVALID, f"DSSE signature (over PAE) does not verify with any given key ({sources})"
    )


def verify_simple_signing_with_keys(
    payload: bytes, signature_b64: str, keys: Sequence[LoadedKey]
) -> Verification:
    """A cosign simple-signing payload (``.sig`` layer) signed with one of ``keys``."""
    try:
        signature = _b64(signature_b64, "signature")
    except EnvelopeError as exc:
        return Verification.failed("key", SIGNATURE_INVALID, str(exc))
    if not keys:
        return Verification.failed("key", SIGNATURE_INVALID, "no public key given to verify the signature")
    for key in keys:
        if key.verify(signature, payload):
            return Verification(
                verified=True, method="key", identity=SignerIdentity.from_key(key), payload=payload
            )
    sources = ", ".join(k.source or k.fingerprint for k in keys)
    return Verification.failed(
        "key", SIGNATURE_INVALID, f"image signature does not verify with any given key ({sources})"
    )


def verify_legacy_dsse(envelope: Mapping[str, Any], trust: TrustRoot) -> Verification:
    """A bare DSSE envelope whose signatures carry their Fulcio certificate and nothing else
    (slsa-github-generator before v1.9 ``.intoto.jsonl``).

    The signature and the certificate chain are checked, but there is no transparency-log
    evidence in the file: the signing time cannot be established offline (slsa-verifier searches
    Rekor online), so the result fails closed with SL204.
    """
    method: Method = "cosign-legacy"
    try:
        parsed = DsseEnvelope.parse(envelope)
    except EnvelopeError as exc:
        return Verification.failed(method, ENVELOPE_INVALID, str(exc))
    with_cert = [s for s in parsed.signatures if s.cert is not None]
    if not with_cert:
        return Verification.failed(
            method, SIGNATURE_INVALID, "DSSE envelope carries no certificate; verify it with a key"
        )
    problems: list[VerificationProblem] = []
    identity: SignerIdentity | None = None
    verified_signature = False
    signer_verified = False
    for signature in with_cert:
        assert signature.cert is not None
        try:
            leaf = load_pem(signature.cert, "DSSE signature certificate")
        except CertificateError as exc:
            problems.append(VerificationProblem(ENVELOPE_INVALID, str(exc)))
            continue
        identity = identity or SignerIdentity.from_certificate(leaf)
        if not verify_signature(leaf.public_key(), signature.sig, parsed.pae):
            problems.append(
                VerificationProblem(
                    SIGNATURE_INVALID, "DSSE signature (over PAE) does not verify with its certificate"
                )
            )
            continue
        verified_signature = True
        chain = chain_problem(leaf, trust, leaf.not_valid_before_utc)
        signer_verified = signer_verified or chain is None
        for why in (profile_problem(leaf), chain):
            if why is not None:
                problems.append(VerificationProblem(SIGNATURE_INVALID, why))
    problems.append(
        VerificationProblem(
            TLOG_MISSING,
            "keyless DSSE envelope carries no transparency-log entry; its signing time can only be "
            "established with an online Rekor lookup, which offline verification does not make",
        )
    )
    return Verification(
        verified=False,
        method=method,
        identity=identity,
        problems=tuple(problems),
        payload_type=parsed.payload_type,
        payload=parsed.payload if verified_signature else None,
        subject_digests=subject_digests(parsed.payload) if verified_signature else frozenset(),
        signer_verified=signer_verified,
    )
