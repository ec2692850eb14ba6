"""Legacy cosign signatures stored as OCI layers, verified without sigstore-python.

* ``sha256-HEX.att`` layers (``application/vnd.dsse.envelope.v1+json``): the DSSE envelope is the
  layer; its signature is inside the envelope, over PAE (the ``signature`` annotation is empty).
* ``sha256-HEX.sig`` layers (``application/vnd.dev.cosign.simplesigning.v1+json``): the layer is
  the simple-signing payload; the base64 signature over those exact bytes is the
  ``dev.cosignproject.cosign/signature`` annotation.

Keyless layers carry the Fulcio certificate (``dev.sigstore.cosign/certificate``), its chain
(``dev.sigstore.cosign/chain``, untrusted) and the Rekor evidence (``dev.sigstore.cosign/bundle``:
SignedEntryTimestamp + Payload{body, integratedTime, logIndex, logID}). Verification: the
signature with the certificate's key; the SET with the Rekor key of the trusted root whose log id
matches; the certificate chain to a Fulcio CA valid at the integrated time, the certificate
valid at that time and its embedded SCT signed by a CT log of the trusted root; and the log
entry body (``dsse/0.0.1``, ``intoto/0.0.1``, ``intoto/0.0.2``, ``hashedrekord/0.0.1``)
recording this payload, this signature and this certificate.
A keyless layer without the Rekor bundle annotation would need an online Rekor search: SL204.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from slsalint import jsonio
from slsalint.verify.bundle import subject_digests
from slsalint.verify.certificates import CertificateError, load_pem, load_pem_chain
from slsalint.verify.chain import anchored_problem, certificate_problems, chain_problem
from slsalint.verify.dsse import DsseEnvelope, EnvelopeError
from slsalint.verify.identity import SignerIdentity
from slsalint.verify.keys import LoadedKey, verify_signature
from slsalint.verify.rekor import EntryError, LogEntry, Signed, check_binding, log_key_for, verify_set
from slsalint.verify.result import (
    ENVELOPE_INVALID,
    SIGNATURE_INVALID,
    TLOG_MISSING,
    Method,
    Verification,
    VerificationProblem,
)
from slsalint.verify.trust import TrustRoot

SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"

LayerKind = Literal["att", "sig"]


def verify_cosign_layer(
    data: bytes,
    annotations: Mapping[str, str],
    trust: TrustRoot,
    *,
    kind: LayerKind,
    keys: Sequence[LoadedKey] = (),
) -> Verification:
    """Verify one cosign ``.att`` (DSSE envelope) or ``.sig`` (simple-signing payload) layer.

    ``data`` is the exact layer blob; ``annotations`` the layer descriptor's annotations. Layers
    without a certificate were signed with a key and need ``keys``.
    """
    try:
        payload, signatures, signing_input, payload_b64, payload_type = _signed_content(
            data, annotations, kind
        )
    except EnvelopeError as exc:
        return Verification.failed("cosign-legacy", ENVELOPE_INVALID, str(exc))
    signed = Signed(
        payload=payload,
        signatures=signatures,
        envelope=data if kind == "att" else None,
        payload_b64=payload_b64,
    )
    certificate_pem = annotations.get(CERTIFICATE_ANNOTATION, "").strip()
    if not certificate_pem:
        return _keyed(signed, signing_input, annotations, trust, keys, kind, payload_type)
    method: Method = "cosign-legacy"
    try:
        leaf = load_pem(certificate_pem, f"{CERTIFICATE_ANNOTATION} annotation")
    except CertificateError as exc:
        return Verification.failed(method, ENVELOPE_INVALID, str(exc))
    untrusted: list[x509.Certificate] = []
    chain_pem = annotations.get(CHAIN_ANNOTATION, "").strip()
    if chain_pem:
        try:
            untrusted = load_pem_chain(chain_pem, f"{CHAIN_ANNOTATION} annotation")
        except CertificateError as exc:
            return Verification.failed(method, ENVELOPE_INVALID, str(exc))
    identity = SignerIdentity.from_certificate(leaf)
    problems: list[VerificationProblem] = []
    what = "DSSE signature (over PAE)" if kind == "att" else "image signature"
    signature_ok = any(
        verify_signature(leaf.public_key(), signature, signing_input) for signature in signatures
    )
    if not signature_ok:
        problems.append(
            VerificationProblem(SIGNATURE_INVALID, f"{what} does not verify with the certificate's key")
        )
    entry, entry_problems = _entry(annotations)
    problems += entry_problems
    if entry is None:
        if not entry_problems:
            problems.append(
                VerificationProblem(
                    TLOG_MISSING,
                    "keyless cosign signature has no Rekor bundle annotation; its transparency-log "
                    "entry could only be found with an online Rekor lookup, which offline "
                    "verification does not make",
                )
            )
        if (why := anchored_problem(leaf, trust, leaf.not_valid_before_utc, untrusted=untrusted)) is not None:
            problems.append(VerificationProblem(SIGNATURE_INVALID, why))
    else:
        problems += _log_problems(entry, trust, replace(signed, certificate=leaf))
        when = entry.integrated_datetime
        assert when is not None
        problems += [
            VerificationProblem(SIGNATURE_INVALID, why)
            for why in certificate_problems(leaf, trust, when, untrusted=untrusted)
        ]
    chains = chain_problem(leaf, trust, leaf.not_valid_before_utc, untrusted=untrusted) is None
    return _result(
        method, identity, problems, entry, payload, payload_type, signature_ok, kind, signature_ok and chains
    )


def _signed_content(
    data: bytes, annotations: Mapping[str, str], kind: LayerKind
) -> tuple[bytes, tuple[bytes, ...], bytes, str | None, str | None]:
    """(payload, signatures, signing input, payload base64, payload type) of a layer."""
    if kind == "att":
        try:
            document = jsonio.loads(data)
        except jsonio.JSONError as exc:
            raise EnvelopeError(f"attestation layer is not a JSON DSSE envelope: {exc}") from None
        if not isinstance(document, dict):
            raise EnvelopeError("attestation layer is not a JSON object")
        envelope = DsseEnvelope.parse(document)
        return (
            envelope.payload,
            tuple(s.sig for s in envelope.signatures),
            envelope.pae,
            envelope.payload_b64,
            envelope.payload_type,
        )
    signature_b64 = annotations.get(SIGNATURE_ANNOTATION, "")
    if not signature_b64:
        raise EnvelopeError(f"signature layer has no {SIGNATURE_ANNOTATION} annotation")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{SIGNATURE_ANNOTATION} annotation is not valid base64") from None
    return data, (signature,), data, None, None


def _entry(annotations: Mapping[str, str]) -> tuple[LogEntry | None, list[VerificationProblem]]:
    text = annotations.get(BUNDLE_ANNOTATION, "").strip()
    if not text:
        return None, []
    try:
        entry = LogEntry.from_cosign_bundle(text)
    except EntryError as exc:
        return None, [VerificationProblem(ENVELOPE_INVALID, str(exc))]
    return entry, []


def _log_problems(entry: LogEntry, trust: TrustRoot, signed: Signed) -> list[VerificationProblem]:
    problems = []
    key, why = log_key_for(entry, trust)
    if key is None:
        problems.append(VerificationProblem(SIGNATURE_INVALID, why or "unknown transparency log"))
    elif (why := verify_set(entry, key)) is not None:
        problems.append(VerificationProblem(SIGNATURE_INVALID, why))
    if (why := check_binding(entry, signed)) is not None:
        problems.append(VerificationProblem(SIGNATURE_INVALID, why))
    return problems


def _keyed(
    signed: Signed,
    signing_input: bytes,
    annotations: Mapping[str, str],
    trust: TrustRoot,
    keys: Sequence[LoadedKey],
    kind: LayerKind,
    payload_type: str | None,
) -> Verification:
    """A layer signed with a key: the key must be given; a Rekor bundle, when present, must verify."""
    if not keys:
        return Verification.failed(
            "key",
            SIGNATURE_INVALID,
            "cosign signature has no certificate (signed with a key) and no key was given",
        )
    matched = next(
        (key for key in keys if any(key.verify(signature, signing_input) for signature in signed.signatures)),
        None,
    )
    if matched is None:
        sources = ", ".join(k.source or k.fingerprint for k in keys)
        return Verification.failed(
            "key", SIGNATURE_INVALID, f"cosign signature does not verify with any given key ({sources})"
        )
    entry, problems = _entry(annotations)
    if entry is not None:
        key_der = matched.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        problems += _log_problems(entry, trust, replace(signed, key_der=key_der))
    return _result(
        "key",
        SignerIdentity.from_key(matched),
        problems,
        entry,
        signed.payload,
        payload_type,
        True,
        kind,
        True,
    )


def _result(
    method: Method,
    identity: SignerIdentity,
    problems: list[VerificationProblem],
    entry: LogEntry | None,
    payload: bytes,
    payload_type: str | None,
    signature_ok: bool,
    kind: LayerKind,
    signer_verified: bool,
) -> Verification:
    unique = tuple(dict.fromkeys(problems))
    return Verification(
        verified=not unique,
        method=method,
        identity=identity,
        log_index=entry.log_index if entry is not None else None,
        integrated_time=entry.integrated_datetime if entry is not None else None,
        problems=unique,
        payload_type=payload_type,
        payload=payload if signature_ok else None,
        subject_digests=subject_digests(payload) if kind == "att" and signature_ok else frozenset(),
        log_id=entry.log_id.hex() if entry is not None else None,
        timestamp_source="tlog" if entry is not None else None,
        signer_verified=signer_verified,
    )
