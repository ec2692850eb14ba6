"""Signed certificate timestamps (RFC 6962) embedded in Fulcio certificates.

Fulcio logs every certificate it issues to a certificate transparency log before issuing it, and
embeds the log's promise (the SCT) in the certificate. An SCT is verified by rebuilding the
``digitally-signed`` structure the log signed over the precertificate::

    version (0) | signature_type certificate_timestamp (0) | timestamp (uint64, ms)
    | entry_type precert_entry (1) | issuer_key_hash (SHA-256 of the issuer's SubjectPublicKeyInfo)
    | uint24 length + TBSCertificate without the SCT extension | uint16 length + extensions

and checking its signature with the CT log key of the trusted root whose log id the SCT names,
inside that key's validity window. At least one embedded SCT must verify, as in cosign and
sigstore-python. A trusted root without CT logs cannot vouch for any SCT, so it fails closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.certificate_transparency import (
    LogEntryType,
    SignedCertificateTimestamp,
    Version,
)

from slsalint.verify.trust import LogKey, TrustRoot

SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
"""``PrecertificateSignedCertificateTimestamps`` (the embedded SCT list)."""

NO_SCT = "signing certificate carries no SCT (no embedded signed certificate timestamp from a CT log)"
SCT_INVALID = "certificate SCT does not verify"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def embedded_scts(certificate: x509.Certificate) -> list[SignedCertificateTimestamp] | None:
    """The SCTs of the certificate's SCT list extension; None when it has none."""
    try:
        extension = certificate.extensions.get_extension_for_oid(SCT_LIST_OID)
    except x509.ExtensionNotFound:
        return None
    value = extension.value
    if not isinstance(value, x509.PrecertificateSignedCertificateTimestamps):
        return []
    return list(value)


def issuer_certificate(
    leaf: x509.Certificate, trust: TrustRoot, untrusted: Sequence[x509.Certificate] = ()
) -> x509.Certificate | None:
    """The certificate that issued ``leaf``: a Fulcio CA certificate of the trusted root or one
    of the intermediates shipped with the signature whose subject is the leaf's issuer and whose
    key verifies the leaf's signature (trusted-root certificates are tried first)."""
    for candidate in [*trust.fulcio_certificates(), *untrusted]:
        if candidate == leaf or candidate.subject != leaf.issuer:
            continue
        try:
            leaf.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return candidate
    return None


def signed_data(sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """The RFC 6962 ``digitally-signed`` input of an embedded (precertificate) SCT."""
    issuer_key_hash = hashlib.sha256(
        issuer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    tbs = leaf.tbs_precertificate_bytes
    if len(tbs) >= 1 << 24:
        raise ValueError(f"precertificate of {len(tbs)} bytes is too large for an SCT")
    extensions = sct.extension_bytes
    if len(extensions) >= 1 << 16:
        raise ValueError("SCT extensions are too large")
    return b"".join(
        (
            bytes([sct.version.value, 0]),
            _milliseconds(sct.timestamp).to_bytes(8, "big"),
            (1).to_bytes(2, "big"),
            issuer_key_hash,
            len(tbs).to_bytes(3, "big"),
            tbs,
            len(extensions).to_bytes(2, "big"),
            extensions,
        )
    )


def _milliseconds(timestamp: datetime) -> int:
    aware = timestamp if timestamp.tzinfo is not None else timestamp.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def _verify(key: LogKey, sct: SignedCertificateTimestamp, data: bytes) -> bool:
    public = key.key
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(sct.signature, data, ec.ECDSA(hashes.SHA256()))
            return True
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(sct.signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def _log_name(key: LogKey) -> str:
    return key.base_url or f"log id {key.log_id_hex[:16]}"


def _sct_failure(
    sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate, trust: TrustRoot
) -> str | None:
    """Why one SCT does not verify, or None when it does."""
    log_id = sct.log_id.hex()
    if sct.version != Version.v1:
        return f"SCT from log id {log_id[:16]} has unsupported version {sct.version}"
    if sct.entry_type != LogEntryType.PRE_CERTIFICATE:
        return f"SCT from log id {log_id[:16]} is not over a precertificate"
    if not isinstance(sct.signature_hash_algorithm, hashes.SHA256):
        name = getattr(sct.signature_hash_algorithm, "name", "unknown")
        return f"SCT from log id {log_id[:16]} uses hash {name}; only SHA-256 is allowed"
    key = trust.ct_log_key(sct.log_id)
    if key is None:
        return f"SCT is from an unknown CT log: log id {log_id} is not in the trusted root ({trust.source})"
    when = sct.timestamp if sct.timestamp.tzinfo is not None else sct.timestamp.replace(tzinfo=UTC)
    if not key.valid_for.contains(when):
        return (
            f"SCT of {_log_name(key)} is dated {when.isoformat()}, outside the log key's validity "
            f"in the trusted root ({key.valid_for})"
        )
    try:
        data = signed_data(sct, leaf, issuer)
    except ValueError as exc:
        return str(exc)
    if not _verify(key, sct, data):
        return f"signature of the SCT from {_log_name(key)} does not verify over this certificate"
    return None


def sct_problem(
    leaf: x509.Certificate, trust: TrustRoot, untrusted: Sequence[x509.Certificate] = ()
) -> str | None:
    """Why ``leaf`` has no embedded SCT that a CT log of ``trust`` signed, or None.

    Call after the chain verified: the SCT binds the key of the certificate that issued ``leaf``.
    """
    try:
        scts = embedded_scts(leaf)
    except ValueError as exc:
        return f"{SCT_INVALID}: the SCT list extension is malformed: {exc}"
    if scts is None:
        return NO_SCT
    if not scts:
        return f"{SCT_INVALID}: the SCT list extension holds no SCT"
    if not trust.ctlogs:
        return (
            f"{SCT_INVALID}: the trusted root ({trust.source}) lists no CT log ('ctlogs'), so no "
            "SCT can be verified (verification fails closed)"
        )
    issuer = issuer_certificate(leaf, trust, untrusted)
    if issuer is None:
        return (
            f"{SCT_INVALID}: the certificate that issued the signing certificate "
            f"({leaf.issuer.rfc4514_string() or 'empty issuer'}) is not known"
        )
    reasons = []
    for sct in scts:
        why = _sct_failure(sct, leaf, issuer, trust)
        if why is None:
            return None
        if why not in reasons:
            reasons.append(why)
    return f"{SCT_INVALID}: " + "; ".join(reasons)


def sct_window_problem(leaf: x509.Certificate, trust: TrustRoot) -> str | None:
    """The trusted root's CT log windows at the time of ``leaf``'s SCTs, for a certificate whose
    SCT signature was verified already (sigstore-python verifies it, but judges the key's
    ``validFor`` against the current time): at least one SCT must come from a CT log the trusted
    root names by the SCT's log id, dated inside that key's window."""
    try:
        scts = embedded_scts(leaf)
    except ValueError as exc:
        return f"{SCT_INVALID}: the SCT list extension is malformed: {exc}"
    if not scts:
        return NO_SCT
    reasons = []
    for sct in scts:
        key = trust.ct_log_key(sct.log_id)
        when = sct.timestamp if sct.timestamp.tzinfo is not None else sct.timestamp.replace(tzinfo=UTC)
        if key is None:
            why = (
                f"SCT is from an unknown CT log: log id {sct.log_id.hex()} is not in the trusted root "
                f"({trust.source})"
            )
        elif not key.valid_for.contains(when):
            why = (
                f"SCT of {_log_name(key)} is dated {when.isoformat()}, outside the log key's validity "
                f"in the trusted root ({key.valid_for})"
            )
        else:
            return None
        if why not in reasons:
            reasons.append(why)
    return f"{SCT_INVALID}: " + "; ".join(reasons)
