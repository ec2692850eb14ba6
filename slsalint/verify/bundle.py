"""Sigstore bundles (media types v0.1, v0.2, v0.3; DSSE envelopes and message signatures).

Two verifiers, one result type:

* sigstore-python 4.x (offline, over the given trusted root) for what it supports: entries of
  kind ``dsse/0.0.1``, ``hashedrekord/0.0.1`` and ``hashedrekord/0.0.2`` (Rekor v2) carrying an
  inclusion proof with checkpoint.
* slsalint's own verification for the rest, which sigstore-python rejects: ``intoto/0.0.1`` and
  ``intoto/0.0.2`` entries (npm provenance, slsa-github-generator, legacy ``cosign attest``),
  v0.1 bundles whose entry has a SET but no inclusion proof, bundles without a log entry but
  with an RFC 3161 timestamp, and bundles signed with a public key. It checks the certificate
  chain to a Fulcio CA of the trusted root, the certificate validity at the signing time and its
  embedded SCT against the trusted root's CT logs, the signature (over the DSSE PAE or the
  message digest), the SET and the inclusion proof with its signed checkpoint against the log
  key of the trusted root, and that the log entry body records this very envelope, signature
  and certificate.

Nothing here touches the network: a bundle that could only be verified with an online Rekor
lookup fails closed with an SL204 problem that says so.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from slsalint import jsonio
from slsalint.envelopes import BUNDLE_MEDIA_TYPES, pae
from slsalint.verify.certificates import CertificateError, load_der
from slsalint.verify.chain import (
    anchored_problem,
    authority_window_problem,
    certificate_problems,
    chain_problem,
)
from slsalint.verify.identity import SignerIdentity
from slsalint.verify.keys import LoadedKey, verify_signature
from slsalint.verify.rekor import (
    EntryError,
    LogEntry,
    Signed,
    check_binding,
    log_key_for,
    verify_inclusion,
    verify_set,
)
from slsalint.verify.result import (
    ENVELOPE_INVALID,
    SIGNATURE_INVALID,
    SUBJECT_MISMATCH,
    TLOG_MISSING,
    Method,
    Verification,
    VerificationProblem,
)
from slsalint.verify.sct import sct_window_problem
from slsalint.verify.shape import ShapeError, check_bundle, proto_bytes
from slsalint.verify.timestamp import bundle_timestamps, timestamp_problem, verified_times
from slsalint.verify.trust import TrustRoot

SIGSTORE_DSSE_KINDS = frozenset({("dsse", "0.0.1"), ("hashedrekord", "0.0.2")})
SIGSTORE_MESSAGE_KINDS = frozenset({("hashedrekord", "0.0.1"), ("hashedrekord", "0.0.2")})

_TLOG_MISSING_PHRASES = (
    "not enough sources of verified time",
    "entry must contain inclusion proof",
    "expected checkpoint in inclusion proof",
    "must contain an inclusion promise",
)
_MALFORMED_PHRASES = (
    "unsupported bundle format",
    "failed to load bundle",
    "expected certificate",
    "expected non-empty certificate chain",
    "invalid leaf",
    "expected exactly one log entry",
    "expected log entry version",
)


class _AnyCertificate:
    """A sigstore policy that accepts every certificate: identity is matched separately."""

    def verify(self, cert: x509.Certificate) -> None:
        return None


_ANY_CERTIFICATE = _AnyCertificate()


@functools.cache
def _quiet_sigstore() -> None:
    """sigstore-python logs warnings (e.g. "bundle contains a root CA"); a library must not print,
    so give its logger a NullHandler (records still propagate to handlers the application set)."""
    logging.getLogger("sigstore").addHandler(logging.NullHandler())


class _Malformed(ValueError):
    """A bundle that is not well-formed (becomes an SL105 problem)."""


def verify_bundle(
    bundle: Mapping[str, Any] | bytes | str,
    trust: TrustRoot,
    *,
    artifact_digest: str | None = None,
    keys: Sequence[LoadedKey] = (),
) -> Verification:
    """Verify a Sigstore bundle offline against ``trust``.

    ``artifact_digest`` (``sha256:HEX``) is what the signature must be about: for a message
    signature the signed digest, for a DSSE in-toto statement one of its subjects (for cosign v3
    and BuildKit referrer bundles: the signed manifest's digest). ``keys`` verify bundles whose
    verification material is a public key instead of a certificate.

    The bundle's shape is checked first (every field's JSON type, sizes, one of each ``oneof``);
    a malformed bundle or certificate is an SL105 problem naming the field, never an exception.
    """
    if artifact_digest is not None and ":" not in artifact_digest:
        raise ValueError(f"artifact digest {artifact_digest!r} is not ALGORITHM:HEX")
    try:
        raw, document = _load(bundle)
        check_bundle(document)
        version = _media_version(document)
        material = document["verificationMaterial"]
        content = _content_kind(document)
        certified = "publicKey" not in material
        leaf, untrusted = _certificates(material) if certified else (None, [])
    except (_Malformed, ShapeError) as exc:
        return Verification.failed("sigstore-bundle", ENVELOPE_INVALID, str(exc))
    if leaf is None:
        return _verify_keyed(document, material, content, trust, keys, artifact_digest)
    entries = material.get("tlogEntries") or []
    if _sigstore_supports(entries, content):
        return _verify_with_sigstore(raw, document, content, leaf, untrusted, trust, artifact_digest)
    return _verify_own(document, version, material, content, leaf, untrusted, trust, artifact_digest)


# -- shape ---------------------------------------------------------------------------------------


def _load(bundle: Mapping[str, Any] | bytes | str) -> tuple[bytes, dict[str, Any]]:
    """The bundle as bytes and as a checked JSON object (strict: no NaN, bounded depth)."""
    if isinstance(bundle, Mapping):
        try:
            raw = json.dumps(dict(bundle), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise _Malformed(f"bundle is not JSON data: {exc}") from None
    else:
        raw = bundle.encode("utf-8") if isinstance(bundle, str) else bytes(bundle)
    try:
        document = jsonio.load_object(raw)
    except jsonio.JSONError as exc:
        raise _Malformed(f"bundle is not valid JSON: {exc}") from None
    return raw, document


def _media_version(document: dict[str, Any]) -> str:
    media_type = document.get("mediaType")
    version = BUNDLE_MEDIA_TYPES.get(media_type) if isinstance(media_type, str) else None
    if version is None:
        raise _Malformed(f"unsupported bundle media type {media_type!r}")
    return version


def _content_kind(document: dict[str, Any]) -> str:
    if isinstance(document.get("dsseEnvelope"), dict):
        return "dsse"
    if isinstance(document.get("messageSignature"), dict):
        return "message"
    raise _Malformed("bundle has neither a 'dsseEnvelope' nor a 'messageSignature'")


def _sigstore_supports(entries: list[dict[str, Any]], content: str) -> bool:
    """sigstore-python verifies bundles with one ``dsse``/``hashedrekord`` entry carrying an
    inclusion proof with checkpoint (the shape is checked already)."""
    if len(entries) != 1:
        return False
    entry = entries[0]
    pair = (entry["kindVersion"]["kind"], entry["kindVersion"]["version"])
    kinds = SIGSTORE_DSSE_KINDS if content == "dsse" else SIGSTORE_MESSAGE_KINDS
    proof = entry.get("inclusionProof")
    return pair in kinds and isinstance(proof, dict) and isinstance(proof.get("checkpoint"), dict)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _Malformed(f"{what} is missing")
    try:
        return proto_bytes(value)
    except ValueError:
        raise _Malformed(f"{what} is not valid base64") from None


def subject_digests(payload: bytes) -> frozenset[str]:
    """``alg:hex`` digests of an in-toto statement's subjects (empty when it is not one)."""
    try:
        statement = jsonio.loads(payload, unique_keys=True)
    except jsonio.JSONError:
        return frozenset()
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    out: set[str] = set()
    for subject in subjects if isinstance(subjects, list) else []:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digest, dict):
            out.update(f"{alg}:{value.lower()}" for alg, value in digest.items() if isinstance(value, str))
    return frozenset(out)


def _subject_problem(digests: frozenset[str], artifact_digest: str | None) -> VerificationProblem | None:
    if artifact_digest is None or artifact_digest.lower() in digests:
        return None
    named = ", ".join(sorted(digests)) or "no digest"
    return VerificationProblem(SUBJECT_MISMATCH, f"signed statement is about {named}, not {artifact_digest}")


# -- sigstore-python -------------------------------------------------------------------------------


def _classify(message: str) -> str:
    lowered = message.lower()
    if any(phrase in lowered for phrase in _TLOG_MISSING_PHRASES):
        return TLOG_MISSING
    if any(phrase in lowered for phrase in _MALFORMED_PHRASES):
        return ENVELOPE_INVALID
    return SIGNATURE_INVALID


def _concern(message: str) -> str:
    """What a sigstore-python failure is about: ``chain``, ``signature``, ``tlog`` or ``other``."""
    lowered = message.lower()
    if "certificate chain" in lowered or "not valid at validation time" in lowered:
        return "chain"
    if ("invalid signature" in lowered and "dsse" in lowered) or "signature is invalid for input" in lowered:
        return "signature"
    if _classify(message) == TLOG_MISSING:
        return "tlog"
    return "other"


def _one_line(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # a pydantic ValidationError: name the first field it refused
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            return f"{where}: {first.get('msg', 'invalid')}"
        except (IndexError, TypeError, AttributeError):
            pass
    text = " ".join(str(exc).split())
    return text[:400] if text else type(exc).__name__


def _verify_with_sigstore(
    raw: bytes,
    document: dict[str, Any],
    content: str,
    leaf: x509.Certificate,
    untrusted: list[x509.Certificate],
    trust: TrustRoot,
    artifact_digest: str | None,
) -> Verification:
    """sigstore-python's verification, completed with what it leaves out (validity windows of
    the trusted root at the signing time; the CT log keys' windows) and, when it fails, with
    every other true cause it did not get to (a signature that does not verify, a certificate
    that does not chain to the trusted root)."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle
    from sigstore_models.common.v1 import HashAlgorithm

    _quiet_sigstore()
    method: Method = "sigstore-bundle"
    identity = SignerIdentity.from_certificate(leaf)
    try:
        own = _content(document, content, artifact_digest)
    except _Malformed as exc:
        return Verification.failed(method, ENVELOPE_INVALID, str(exc), identity=identity)
    except _Mismatch as exc:
        return _failed_with_diagnosis(
            VerificationProblem(SIGNATURE_INVALID, str(exc)), None, leaf, untrusted, trust, identity
        )
    verifier = trust.sigstore_verifier()
    payload_type: str | None = None
    payload: bytes | None = None
    try:
        parsed = Bundle.from_json(raw)
        if content == "dsse":
            payload_type, payload = verifier.verify_dsse(parsed, _ANY_CERTIFICATE)
        else:
            assert own.signed_digest is not None
            digest = bytes.fromhex(own.signed_digest.removeprefix("sha256:"))
            verifier.verify_artifact(
                Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest), parsed, _ANY_CERTIFICATE
            )
    except (SigstoreError, ValueError, TypeError, InvalidSignature) as exc:
        why = _one_line(exc)
        prefix = "bundle rejected" if _classify(why) == ENVELOPE_INVALID else "signature does not verify"
        problem = VerificationProblem(_classify(why), f"{prefix}: {why}")
        return _failed_with_diagnosis(problem, own, leaf, untrusted, trust, identity, document)
    entry = document["verificationMaterial"]["tlogEntries"][0]
    log_index = int(entry.get("logIndex") or 0)
    log_id = proto_bytes(entry["logId"]["keyId"])
    times, source = _sigstore_times(document, own, trust)
    found: list[VerificationProblem] = []
    found += _window_problems(log_id, times, trust, leaf, untrusted)
    digests = subject_digests(payload) if payload is not None else frozenset()
    if content == "dsse" and (subject := _subject_problem(digests, artifact_digest)) is not None:
        found.append(subject)
    problems = tuple(dict.fromkeys(found))
    return Verification(
        verified=not problems,
        method=method,
        identity=identity,
        log_index=log_index,
        integrated_time=times[0] if times else None,
        problems=problems,
        payload_type=payload_type,
        payload=payload,
        signed_digest=own.signed_digest,
        subject_digests=digests,
        log_id=log_id.hex(),
        timestamp_source=source,
        signer_verified=True,
    )


def _sigstore_times(
    document: dict[str, Any], content: _Content, trust: TrustRoot
) -> tuple[list[datetime], str | None]:
    """The times sigstore-python verified the signature at: the integrated time under a SET
    (Rekor v1), else the RFC 3161 timestamps of a trusted authority (Rekor v2)."""
    material = document["verificationMaterial"]
    entry = material["tlogEntries"][0]
    integrated = int(entry.get("integratedTime") or 0)
    if integrated and isinstance(entry.get("inclusionPromise"), dict):
        return [datetime.fromtimestamp(integrated, tz=UTC)], "tlog"
    tsa = verified_times(bundle_timestamps(material), content.signatures[0], trust)
    return sorted(tsa), "tsa" if tsa else None


def _window_problems(
    log_id: bytes,
    times: Sequence[datetime],
    trust: TrustRoot,
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
) -> list[VerificationProblem]:
    """The trusted root's validity windows at the signing time, which sigstore-python judges
    against the current time only: the transparency log key, the Fulcio CA, the CT log keys
    (sigstore-python verified the SCT's signature; its key's window is judged here)."""
    out: list[VerificationProblem] = []
    key = trust.log_key(log_id)
    if key is None:
        out.append(
            VerificationProblem(
                SIGNATURE_INVALID,
                f"transparency log {log_id.hex()} is not in the trusted root ({trust.source})",
            )
        )
    for when in times:
        if key is not None and not key.valid_for.contains(when):
            out.append(
                VerificationProblem(
                    SIGNATURE_INVALID,
                    f"transparency log key {log_id.hex()[:16]} was not valid at the signing time "
                    f"{when.isoformat()} (valid {key.valid_for} in {trust.source})",
                )
            )
        if (why := authority_window_problem(leaf, trust, when)) is not None:
            out.append(VerificationProblem(SIGNATURE_INVALID, why))
    if not times:
        out.append(
            VerificationProblem(
                TLOG_MISSING, "no signing time could be established from the log or a timestamp"
            )
        )
    if (why := sct_window_problem(leaf, trust)) is not None:
        out.append(VerificationProblem(SIGNATURE_INVALID, why))
    return out


def _failed_with_diagnosis(
    problem: VerificationProblem,
    content: _Content | None,
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    trust: TrustRoot,
    identity: SignerIdentity,
    document: dict[str, Any] | None = None,
) -> Verification:
    """A failed verification that names every true cause, not only the first one found: the
    signature over the content with the certificate's key, and the certificate chain to the
    trusted root, are checked as well. When both hold, the signer is known
    (``signer_verified``): the identity is the one that signed, whatever else failed."""
    problems = [problem]
    concern = _concern(problem.message)
    if (
        document is not None
        and content is not None
        and (concern == "tlog" or "timestamp" in problem.message.lower())
    ):
        # A timestamp that is there but does not verify is a signature problem, not missing evidence.
        material = document["verificationMaterial"]
        why = timestamp_problem(bundle_timestamps(material), content.signatures[0], trust)
        if why is not None:
            problems = [VerificationProblem(SIGNATURE_INVALID, why)]
            concern = "timestamp"
    signature_ok = content is not None and content.verify(leaf.public_key())
    if content is not None and not signature_ok and concern != "signature":
        what = "DSSE signature (over PAE)" if content.payload_type is not None else "message signature"
        problems.append(
            VerificationProblem(
                SIGNATURE_INVALID, f"{what} does not verify with the signing certificate's key"
            )
        )
    chain = chain_problem(leaf, trust, leaf.not_valid_before_utc, untrusted=untrusted)
    if chain is not None:
        problems = [p for p in problems if _concern(p.message) != "chain"]
        problems.append(VerificationProblem(SIGNATURE_INVALID, chain))
    elif concern == "chain" and document is not None and content is not None:
        # The chain holds when the certificate was issued; say why it fails at the signing time.
        times, _ = _sigstore_times(document, content, trust)
        precise = [
            why for when in times for why in certificate_problems(leaf, trust, when, untrusted=untrusted)
        ]
        if precise:
            problems = [p for p in problems if _concern(p.message) != "chain"]
            problems += [VerificationProblem(SIGNATURE_INVALID, why) for why in precise]
    payload = content.payload if content is not None and content.payload_type is not None else None
    return Verification(
        verified=False,
        method="sigstore-bundle",
        identity=identity,
        problems=tuple(dict.fromkeys(problems)),
        payload_type=content.payload_type if content is not None else None,
        payload=payload if signature_ok else None,
        signed_digest=content.signed_digest if content is not None else None,
        subject_digests=subject_digests(payload) if payload is not None and signature_ok else frozenset(),
        signer_verified=signature_ok and chain is None,
    )


# -- own verification -------------------------------------------------------------------------------


def _certificates(material: dict[str, Any]) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The signing certificate and the untrusted intermediates shipped with it (fully parsed)."""
    if isinstance(material.get("certificate"), dict):
        items = [material["certificate"]]
        where = "verificationMaterial.certificate"
    elif isinstance(material.get("x509CertificateChain"), dict):
        items = material["x509CertificateChain"].get("certificates") or []
        where = "verificationMaterial.x509CertificateChain.certificates"
        if not items:
            raise _Malformed("bundle certificate chain is empty")
    else:
        raise _Malformed("bundle verification material has no certificate")
    certificates = []
    for i, item in enumerate(items):
        name = where if len(items) == 1 and where.endswith("certificate") else f"{where}[{i}]"
        der = _b64(item.get("rawBytes") if isinstance(item, dict) else None, name)
        try:
            certificates.append(load_der(der, f"bundle certificate {name}"))
        except CertificateError as exc:
            raise _Malformed(str(exc)) from None
    return certificates[0], certificates[1:]


@dataclass(frozen=True)
class _Content:
    """What was signed, however the bundle carries it."""

    signing_input: bytes
    """PAE(payloadType, payload) for DSSE; the SHA-256 digest for message signatures."""
    prehashed: bool
    signatures: tuple[bytes, ...]
    payload: bytes
    payload_type: str | None
    payload_b64: str | None
    signed_digest: str | None

    def signed(self, certificate: x509.Certificate | None = None, key_der: bytes | None = None) -> Signed:
        return Signed(
            payload=self.payload,
            signatures=self.signatures,
            certificate=certificate,
            key_der=key_der,
            payload_b64=self.payload_b64,
            digest_hex=self.signed_digest.removeprefix("sha256:")
            if self.prehashed and self.signed_digest
            else None,
        )

    def verify(self, key: Any) -> bool:
        if not self.prehashed:
            return any(verify_signature(key, signature, self.signing_input) for signature in self.signatures)
        return any(_verify_prehashed(key, signature, self.signing_input) for signature in self.signatures)


def _verify_prehashed(key: Any, signature: bytes, digest: bytes) -> bool:
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
            return True
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), prehashed)
            return True
    except InvalidSignature:
        return False
    return False


def _content(document: dict[str, Any], kind: str, artifact_digest: str | None) -> _Content:
    if kind == "dsse":
        envelope = document["dsseEnvelope"]
        payload_type = envelope.get("payloadType")
        if not isinstance(payload_type, str):
            raise _Malformed("DSSE envelope has no 'payloadType'")
        payload_b64 = envelope.get("payload")
        payload = _b64(payload_b64, "DSSE payload")
        signatures = envelope.get("signatures")
        if not isinstance(signatures, list) or not signatures:
            raise _Malformed("DSSE envelope has no signatures")
        sigs = tuple(
            _b64(item.get("sig") if isinstance(item, dict) else None, "DSSE signature") for item in signatures
        )
        return _Content(
            signing_input=pae(payload_type, payload),
            prehashed=False,
            signatures=sigs,
            payload=payload,
            payload_type=payload_type,
            payload_b64=payload_b64 if isinstance(payload_b64, str) else None,
            signed_digest=None,
        )
    message = document["messageSignature"]
    signature = _b64(message.get("signature"), "message signature")
    recorded = message.get("messageDigest")
    digest: bytes | None = None
    if isinstance(recorded, dict) and recorded.get("algorithm") in ("SHA2_256", None):
        digest = _b64(recorded.get("digest"), "message digest")
    if artifact_digest is not None:
        algorithm, _, hex_digest = artifact_digest.partition(":")
        if algorithm != "sha256":
            raise _Malformed(f"cannot check a message signature over {algorithm}")
        wanted = bytes.fromhex(hex_digest)
        if digest is not None and digest != wanted:
            raise _Mismatch(f"message signature is over sha256:{digest.hex()}, not {artifact_digest}")
        digest = wanted
    if digest is None:
        raise _Malformed("message signature bundle names no SHA-256 digest; the artifact digest is needed")
    return _Content(
        signing_input=digest,
        prehashed=True,
        signatures=(signature,),
        payload=b"",
        payload_type=None,
        payload_b64=None,
        signed_digest="sha256:" + digest.hex(),
    )


class _Mismatch(ValueError):
    """The signature is about another artifact than the one asked about (SL202)."""


def _verify_own(
    document: dict[str, Any],
    version: str,
    material: dict[str, Any],
    kind: str,
    leaf: x509.Certificate,
    untrusted: list[x509.Certificate],
    trust: TrustRoot,
    artifact_digest: str | None,
) -> Verification:
    method: Method = "sigstore-bundle"
    identity = SignerIdentity.from_certificate(leaf)
    try:
        content = _content(document, kind, artifact_digest)
    except _Malformed as exc:
        return Verification.failed(method, ENVELOPE_INVALID, str(exc), identity=identity)
    except _Mismatch as exc:
        return _failed_with_diagnosis(
            VerificationProblem(SIGNATURE_INVALID, str(exc)), None, leaf, untrusted, trust, identity
        )
    problems: list[VerificationProblem] = []

    def fail(rule: str, message: str) -> None:
        problem = VerificationProblem(rule, message)
        if problem not in problems:
            problems.append(problem)

    signature_ok = content.verify(leaf.public_key())
    if not signature_ok:
        what = "DSSE signature (over PAE)" if kind == "dsse" else "message signature"
        fail(SIGNATURE_INVALID, f"{what} does not verify with the signing certificate's key")

    timestamps = bundle_timestamps(material)
    tsa_times = verified_times(timestamps, content.signatures[0], trust)
    if timestamps and not tsa_times:
        fail(
            SIGNATURE_INVALID,
            timestamp_problem(timestamps, content.signatures[0], trust)
            or "signed timestamp does not verify with a timestamp authority of the trusted root",
        )
    times: list[datetime] = list(tsa_times)
    entries = material.get("tlogEntries") or []
    entry: LogEntry | None = None
    source = "tsa" if tsa_times else None
    if not isinstance(entries, list) or len(entries) > 1:
        fail(ENVELOPE_INVALID, "bundle must hold exactly one transparency log entry")
    elif entries:
        try:
            entry = LogEntry.from_bundle(entries[0])
        except EntryError as exc:
            fail(ENVELOPE_INVALID, str(exc))
    if entry is not None:
        log_problem = _check_entry(entry, version, content.signed(certificate=leaf), trust, tsa_times)
        for rule, message in log_problem:
            fail(rule, message)
        when = entry.integrated_datetime
        if when is not None and entry.signed_entry_timestamp is not None:
            times.append(when)
            source = "tlog"
    elif not tsa_times and not timestamps:
        fail(
            TLOG_MISSING,
            "keyless signature has no transparency log entry and no trusted timestamp "
            "(offline verification cannot look one up in Rekor)",
        )

    if times:
        for when in times:
            for message in certificate_problems(leaf, trust, when, untrusted=untrusted):
                fail(SIGNATURE_INVALID, message)
    elif (why := anchored_problem(leaf, trust, leaf.not_valid_before_utc, untrusted=untrusted)) is not None:
        fail(SIGNATURE_INVALID, why)
    chains = chain_problem(leaf, trust, leaf.not_valid_before_utc, untrusted=untrusted) is None

    digests = subject_digests(content.payload) if kind == "dsse" and signature_ok else frozenset()
    if kind == "dsse" and (subject := _subject_problem(digests, artifact_digest)) is not None:
        problems.append(subject)
    return Verification(
        verified=not problems,
        method=method,
        identity=identity,
        log_index=entry.log_index if entry is not None else None,
        integrated_time=times[-1] if times else None,
        problems=tuple(problems),
        payload_type=content.payload_type,
        payload=content.payload if kind == "dsse" and signature_ok else None,
        signed_digest=content.signed_digest,
        subject_digests=digests,
        log_id=entry.log_id.hex() if entry is not None else None,
        timestamp_source=source,
        signer_verified=signature_ok and chains,
    )


def _check_entry(
    entry: LogEntry, version: str, signed: Signed, trust: TrustRoot, tsa_times: Sequence[datetime]
) -> list[tuple[str, str]]:
    """Problems with a bundle's log entry: key (and its validity window at the signing time),
    inclusion proof, SET, binding."""
    out: list[tuple[str, str]] = []
    has_tsa_time = bool(tsa_times)
    key, why = log_key_for(entry, trust)
    if key is None:
        out.append((SIGNATURE_INVALID, why or "unknown transparency log"))
    elif entry.integrated_time is None:
        # No integrated time (Rekor v2, or a timestamp-only entry): the key must have been valid
        # when the trusted timestamps say the signature was made.
        for when in tsa_times:
            if not key.valid_for.contains(when):
                out.append(
                    (
                        SIGNATURE_INVALID,
                        f"transparency log key {entry.log_id.hex()[:16]} was not valid at the signing "
                        f"time {when.isoformat()} (valid {key.valid_for} in {trust.source})",
                    )
                )
    proof = entry.inclusion_proof
    if version != "0.1" and (proof is None or proof.checkpoint is None):
        out.append(
            (
                TLOG_MISSING,
                f"bundle v{version} log entry {entry.log_index} has no inclusion proof with a signed "
                "checkpoint (required from bundle v0.2 on; an online Rekor lookup would be needed)",
            )
        )
    elif (
        key is not None
        and proof is not None
        and proof.checkpoint is not None
        and (why := verify_inclusion(entry, key)) is not None
    ):
        out.append((SIGNATURE_INVALID, why))
    if entry.signed_entry_timestamp is not None and entry.integrated_time is not None:
        if key is not None and (why := verify_set(entry, key)) is not None:
            out.append((SIGNATURE_INVALID, why))
    elif version == "0.1":
        out.append((TLOG_MISSING, f"bundle v0.1 log entry {entry.log_index} has no signed entry timestamp"))
    elif not has_tsa_time:
        out.append((TLOG_MISSING, "log entry has no integrated time under a SET and no trusted timestamp"))
    if (why := check_binding(entry, signed)) is not None:
        out.append((SIGNATURE_INVALID, why))
    return out


def _verify_keyed(
    document: dict[str, Any],
    material: dict[str, Any],
    kind: str,
    trust: TrustRoot,
    keys: Sequence[LoadedKey],
    artifact_digest: str | None,
) -> Verification:
    method: Method = "key"
    hint = material.get("publicKey", {}).get("hint") if isinstance(material.get("publicKey"), dict) else None
    if not keys:
        return Verification.failed(
            method,
            SIGNATURE_INVALID,
            f"bundle is signed with a public key{f' ({hint})' if hint else ''} "
            "and no key was given to verify it",
        )
    try:
        content = _content(document, kind, artifact_digest)
    except _Malformed as exc:
        return Verification.failed(method, ENVELOPE_INVALID, str(exc))
    except _Mismatch as exc:
        return Verification.failed(method, SIGNATURE_INVALID, str(exc))
    matched = next((key for key in keys if content.verify(key.key)), None)
    if matched is None:
        return Verification.failed(
            method, SIGNATURE_INVALID, "signature does not verify with any of the given keys"
        )
    identity = SignerIdentity.from_key(matched)
    problems: list[VerificationProblem] = []
    entries = material.get("tlogEntries") or []
    entry: LogEntry | None = None
    if isinstance(entries, list) and entries:
        try:
            entry = LogEntry.from_bundle(entries[0])
        except EntryError as exc:
            problems.append(VerificationProblem(ENVELOPE_INVALID, str(exc)))
    if entry is not None:
        key_der = matched.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        version = _media_version(document)
        for rule, message in _check_entry(entry, version, content.signed(key_der=key_der), trust, ()):
            if rule != TLOG_MISSING:
                problems.append(VerificationProblem(rule, message))
    digests = subject_digests(content.payload) if kind == "dsse" else frozenset()
    if kind == "dsse" and (subject := _subject_problem(digests, artifact_digest)) is not None:
        problems.append(subject)
    return Verification(
        verified=not problems,
        method=method,
        identity=identity,
        log_index=entry.log_index if entry is not None else None,
        integrated_time=entry.integrated_datetime if entry is not None else None,
        problems=tuple(problems),
        payload_type=content.payload_type,
        payload=content.payload if kind == "dsse" else None,
        signed_digest=content.signed_digest,
        subject_digests=digests,
        log_id=entry.log_id.hex() if entry is not None else None,
        timestamp_source="tlog" if entry is not None else None,
    )
