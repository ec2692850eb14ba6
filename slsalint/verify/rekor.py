"""Rekor (v1) evidence verified without sigstore-python: SETs, inclusion proofs, checkpoints, and the
binding of a log entry body to the envelope or payload it is supposed to record.

Used for what sigstore-python 4.x does not verify: ``intoto/0.0.1`` and ``intoto/0.0.2`` entries
(legacy ``cosign attest``, npm provenance, slsa-github-generator bundles), bundles v0.1 whose entry
has a SET but no inclusion proof, and legacy cosign layers whose Rekor bundle is an annotation.
Each check returns a one-line problem message, or None when it passes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from slsalint import jsonio
from slsalint.verify.shape import proto_bytes
from slsalint.verify.trust import LogKey, TrustRoot


class EntryError(ValueError):
    """A log entry that cannot be parsed (one-line message)."""


@dataclass(frozen=True)
class InclusionProof:
    log_index: int
    root_hash: bytes
    tree_size: int
    hashes: tuple[bytes, ...]
    checkpoint: str | None


@dataclass(frozen=True)
class LogEntry:
    """One Rekor v1 entry as carried by a bundle or a cosign ``dev.sigstore.cosign/bundle``."""

    body: bytes
    """The canonicalized entry body (JSON bytes)."""
    body_b64: str
    """The body exactly as base64 in the SET payload."""
    log_index: int
    log_id: bytes
    integrated_time: int | None
    signed_entry_timestamp: bytes | None
    inclusion_proof: InclusionProof | None
    kind: str
    version: str

    @property
    def integrated_datetime(self) -> datetime | None:
        if self.integrated_time is None:
            return None
        return datetime.fromtimestamp(self.integrated_time, tz=UTC)

    def body_json(self) -> dict[str, Any]:
        try:
            value = jsonio.loads(self.body, unique_keys=True)
        except jsonio.JSONError as exc:
            raise EntryError(f"log entry body: {exc}") from None
        if not isinstance(value, dict):
            raise EntryError("log entry body is not a JSON object")
        return value

    @classmethod
    def from_bundle(cls, entry: Any) -> LogEntry:
        """From a bundle's ``verificationMaterial.tlogEntries[i]`` (protobuf JSON)."""
        if not isinstance(entry, dict):
            raise EntryError("tlog entry is not an object")
        body_b64 = entry.get("canonicalizedBody")
        body = _b64(body_b64, "canonicalizedBody")
        kind_version_json = entry.get("kindVersion")
        kind_version: dict[str, Any] = kind_version_json if isinstance(kind_version_json, dict) else {}
        log_id = entry.get("logId")
        promise = entry.get("inclusionPromise")
        set_b64 = promise.get("signedEntryTimestamp") if isinstance(promise, dict) else None
        proof_json = entry.get("inclusionProof")
        proof = None
        if isinstance(proof_json, dict):
            checkpoint = proof_json.get("checkpoint")
            envelope = checkpoint.get("envelope") if isinstance(checkpoint, dict) else None
            hashes = proof_json.get("hashes") or []
            if not isinstance(hashes, list):
                raise EntryError("inclusion proof 'hashes' is not a list")
            proof = InclusionProof(
                log_index=_int(proof_json.get("logIndex", 0), "inclusionProof.logIndex"),
                root_hash=_b64(proof_json.get("rootHash"), "inclusionProof.rootHash"),
                tree_size=_int(proof_json.get("treeSize"), "inclusionProof.treeSize"),
                hashes=tuple(_b64(h, "inclusionProof.hashes") for h in hashes),
                checkpoint=envelope if isinstance(envelope, str) and envelope else None,
            )
        integrated = entry.get("integratedTime")
        return cls(
            body=body,
            body_b64=base64.b64encode(body).decode("ascii"),
            log_index=_int(entry.get("logIndex", 0), "logIndex"),
            log_id=_b64(log_id.get("keyId") if isinstance(log_id, dict) else None, "logId.keyId"),
            integrated_time=_int(integrated, "integratedTime")
            if integrated not in (None, "", "0", 0)
            else None,
            signed_entry_timestamp=_b64(set_b64, "signedEntryTimestamp") if set_b64 else None,
            inclusion_proof=proof,
            kind=str(kind_version.get("kind") or ""),
            version=str(kind_version.get("version") or ""),
        )

    @classmethod
    def from_cosign_bundle(cls, annotation: str) -> LogEntry:
        """From cosign's ``dev.sigstore.cosign/bundle`` annotation (SignedEntryTimestamp + Payload)."""
        try:
            document = jsonio.loads(annotation)
        except jsonio.JSONError as exc:
            raise EntryError(f"cosign bundle annotation: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("Payload"), dict):
            raise EntryError("cosign bundle annotation has no 'Payload' object")
        payload = document["Payload"]
        body_b64 = payload.get("body")
        if not isinstance(body_b64, str):
            raise EntryError("cosign bundle annotation has no string 'Payload.body'")
        body = _b64(body_b64, "Payload.body")
        log_id_hex = payload.get("logID")
        try:
            log_id = bytes.fromhex(log_id_hex) if isinstance(log_id_hex, str) else b""
        except ValueError:
            raise EntryError("cosign bundle annotation 'Payload.logID' is not hex") from None
        if not log_id:
            raise EntryError("cosign bundle annotation has no 'Payload.logID'")
        set_b64 = document.get("SignedEntryTimestamp")
        entry = cls(
            body=body,
            body_b64=body_b64,
            log_index=_int(payload.get("logIndex"), "Payload.logIndex"),
            log_id=log_id,
            integrated_time=_int(payload.get("integratedTime"), "Payload.integratedTime"),
            signed_entry_timestamp=_b64(set_b64, "SignedEntryTimestamp") if set_b64 else None,
            inclusion_proof=None,
            kind="",
            version="",
        )
        body_json = entry.body_json()
        return replace(
            entry, kind=str(body_json.get("kind") or ""), version=str(body_json.get("apiVersion") or "")
        )


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise EntryError(f"log entry has no {what}")
    try:
        return proto_bytes(value)
    except ValueError:
        raise EntryError(f"log entry {what} is not valid base64") from None


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise EntryError(f"log entry {what} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise EntryError(f"log entry {what} is missing or not an integer")


# -- signed entry timestamp ---------------------------------------------------------------------


def set_payload(entry: LogEntry) -> bytes:
    """The canonical JSON the SET signs: {body, integratedTime, logID, logIndex} (RFC 8785 order)."""
    document = {
        "body": entry.body_b64,
        "integratedTime": entry.integrated_time,
        "logID": entry.log_id.hex(),
        "logIndex": entry.log_index,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def log_key_for(entry: LogEntry, trust: TrustRoot) -> tuple[LogKey | None, str | None]:
    key = trust.log_key(entry.log_id)
    if key is None:
        return None, f"transparency log {entry.log_id.hex()} is not in the trusted root ({trust.source})"
    when = entry.integrated_datetime
    if when is not None and not key.valid_for.contains(when):
        return None, (
            f"transparency log key {entry.log_id.hex()[:16]} was not valid at the integrated time "
            f"{when.isoformat()} (valid {key.valid_for})"
        )
    return key, None


def verify_set(entry: LogEntry, key: LogKey) -> str | None:
    if entry.signed_entry_timestamp is None or entry.integrated_time is None:
        return "log entry has no signed entry timestamp (SET)"
    if not key.verify(entry.signed_entry_timestamp, set_payload(entry)):
        return f"signed entry timestamp (SET) of log index {entry.log_index} does not verify with the log key"
    return None


# -- inclusion proof and checkpoint ---------------------------------------------------------------


def _hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf: bytes, index: int, size: int, hashes: Sequence[bytes]) -> bytes | None:
    """The RFC 6962 root implied by an inclusion proof, or None when the proof has the wrong shape."""
    if size <= 0 or not 0 <= index < size:
        return None
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    if len(hashes) != inner + border:
        return None
    node = _hash_leaf(leaf)
    for i, sibling in enumerate(hashes[:inner]):
        node = _hash_children(node, sibling) if (index >> i) & 1 == 0 else _hash_children(sibling, node)
    for sibling in hashes[inner:]:
        node = _hash_children(sibling, node)
    return node


_NOTE_SIGNATURE = re.compile(r"\u2014 (\S+) (\S+)\n")


def verify_checkpoint(checkpoint: str, key: LogKey) -> tuple[int, bytes] | str:
    """(tree size, root hash) of a signed checkpoint, or why it does not verify."""
    if checkpoint.count("\n\n") != 1:
        return "checkpoint is not a signed note (no single blank line before the signatures)"
    split = checkpoint.index("\n\n")
    note = checkpoint[: split + 1]
    signatures = checkpoint[split + 2 :]
    lines = note.rstrip("\n").split("\n")
    if len(lines) < 3 or not lines[0]:
        return "checkpoint note is malformed (needs origin, size and root hash)"
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        return "checkpoint note has a malformed size or root hash"
    hint = key.key_hint
    found = False
    for _name, signature_b64 in _NOTE_SIGNATURE.findall(signatures):
        try:
            raw = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) < 5 or raw[:4] != hint:
            continue
        found = True
        if key.verify(raw[4:], note.encode("utf-8")):
            return size, root
    if not found:
        return "checkpoint carries no signature by the log's key"
    return "checkpoint signature does not verify with the log key"


def verify_inclusion(entry: LogEntry, key: LogKey) -> str | None:
    proof = entry.inclusion_proof
    if proof is None:
        return "log entry has no inclusion proof"
    root = merkle_root(entry.body, proof.log_index, proof.tree_size, proof.hashes)
    if root is None:
        return (
            f"inclusion proof has the wrong shape for index {proof.log_index} in a tree of {proof.tree_size}"
        )
    if root != proof.root_hash:
        return "inclusion proof does not lead to its root hash (entry not in the log)"
    if proof.checkpoint is None:
        return "inclusion proof has no signed checkpoint"
    checked = verify_checkpoint(proof.checkpoint, key)
    if isinstance(checked, str):
        return checked
    size, checkpoint_root = checked
    if checkpoint_root != proof.root_hash or size != proof.tree_size:
        return "signed checkpoint is for another tree than the inclusion proof"
    return None


# -- binding of the entry body to what was signed ---------------------------------------------------


def _same_certificate(encoded_pem_b64: Any, certificate: x509.Certificate) -> bool:
    """Whether a base64(PEM) verifier in a log entry is this certificate (or its public key)."""
    if not isinstance(encoded_pem_b64, str):
        return False
    try:
        pem = base64.b64decode(encoded_pem_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    der = certificate.public_bytes(serialization.Encoding.DER)
    try:
        if b"CERTIFICATE" in pem:
            return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER) == der
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.DER, spki) == certificate.public_key().public_bytes(
        serialization.Encoding.DER, spki
    )


def _same_key(encoded_pem_b64: Any, key_der: bytes) -> bool:
    if not isinstance(encoded_pem_b64, str):
        return False
    try:
        pem = base64.b64decode(encoded_pem_b64, validate=True)
        if b"CERTIFICATE" in pem:
            loaded: Any = x509.load_pem_x509_certificate(pem).public_key()
        else:
            loaded = serialization.load_pem_public_key(pem)
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(loaded.public_bytes(serialization.Encoding.DER, spki) == key_der)


@dataclass(frozen=True)
class Signed:
    """What a log entry must record: the signed content, its signatures and the signer."""

    payload: bytes
    """DSSE payload (attestations) or the signed message (hashedrekord)."""
    signatures: tuple[bytes, ...]
    certificate: x509.Certificate | None = None
    key_der: bytes | None = None
    """SubjectPublicKeyInfo DER of a plain signing key (keyed signatures)."""
    envelope: bytes | None = None
    """The exact envelope bytes (cosign ``.att`` layer), when known."""
    payload_b64: str | None = None
    """The DSSE payload as base64 text in the envelope (intoto/0.0.2 may record it)."""
    digest_hex: str | None = None
    """SHA-256 (hex) of the signed artifact when only its digest is known (message signatures)."""

    def signer_matches(self, value: Any) -> bool:
        if self.certificate is not None:
            return _same_certificate(value, self.certificate)
        if self.key_der is not None:
            return _same_key(value, self.key_der)
        return False


def _hash_value(spec: Any, what: str) -> str | None:
    if not isinstance(spec, dict):
        return None
    if str(spec.get("algorithm", "")).lower() != "sha256":
        raise EntryError(f"log entry {what} is not a SHA-256 hash")
    value = spec.get("value")
    return value.lower() if isinstance(value, str) else None


def _sig_candidates(value: Any) -> set[bytes]:
    """intoto/0.0.2 stores the DSSE ``sig`` base64-encoded once more; accept both encodings."""
    out: set[bytes] = set()
    if not isinstance(value, str):
        return out
    try:
        once = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return out
    out.add(once)
    with contextlib.suppress(binascii.Error, ValueError):
        out.add(base64.b64decode(once, validate=True))
    return out


def check_binding(entry: LogEntry, signed: Signed) -> str | None:
    """Whether the entry body records exactly this payload, these signatures and this signer."""
    try:
        body = entry.body_json()
        kind, version = body.get("kind"), body.get("apiVersion")
        spec = body.get("spec")
        if not isinstance(spec, dict):
            return "log entry body has no 'spec'"
        if (entry.kind, entry.version) != (kind, version):
            return (
                f"log entry kindVersion {entry.kind or '(empty)'}/{entry.version or '(empty)'} does not "
                f"match its body ({kind}/{version})"
            )
        payload_sha = signed.digest_hex or hashlib.sha256(signed.payload).hexdigest()
        if (kind, version) == ("dsse", "0.0.1"):
            return _bind_dsse(spec, signed, payload_sha)
        if kind == "intoto" and version == "0.0.2":
            return _bind_intoto_v2(spec, signed, payload_sha)
        if kind == "intoto" and version == "0.0.1":
            return _bind_intoto_v1(spec, signed, payload_sha)
        if (kind, version) == ("hashedrekord", "0.0.1"):
            return _bind_hashedrekord(spec, signed, payload_sha)
    except EntryError as exc:
        return str(exc)
    return f"unsupported log entry type {kind}/{version}"


def _bind_dsse(spec: dict[str, Any], signed: Signed, payload_sha: str) -> str | None:
    if _hash_value(spec.get("payloadHash"), "payloadHash") != payload_sha:
        return "log entry (dsse) records another payload than this envelope"
    recorded = spec.get("signatures")
    if not isinstance(recorded, list) or not recorded:
        return "log entry (dsse) records no signatures"
    sigs: list[bytes] = []
    for item in recorded:
        if not isinstance(item, dict):
            return "log entry (dsse) has a malformed signature"
        if not signed.signer_matches(item.get("verifier")):
            return "log entry (dsse) was made with another certificate or key"
        value = item.get("signature")
        try:
            sigs.append(base64.b64decode(value, validate=True) if isinstance(value, str) else b"")
        except (binascii.Error, ValueError):
            return "log entry (dsse) has a malformed signature"
    if sorted(sigs) != sorted(signed.signatures):
        return "log entry (dsse) records other signatures than this envelope"
    return None


def _bind_intoto_v2(spec: dict[str, Any], signed: Signed, payload_sha: str) -> str | None:
    content = spec.get("content")
    if not isinstance(content, dict):
        return "log entry (intoto/0.0.2) has no 'content'"
    if _hash_value(content.get("payloadHash"), "payloadHash") != payload_sha:
        return "log entry (intoto) records another payload than this envelope"
    envelope = content.get("envelope")
    if not isinstance(envelope, dict):
        return "log entry (intoto/0.0.2) has no envelope"
    recorded_payload = envelope.get("payload")
    if recorded_payload is not None:
        candidates = _sig_candidates(recorded_payload)
        wanted = {signed.payload, (signed.payload_b64 or "").encode()}
        if not candidates & wanted:
            return "log entry (intoto) records another payload than this envelope"
    recorded = envelope.get("signatures")
    if not isinstance(recorded, list) or not recorded:
        return "log entry (intoto) records no signatures"
    found: set[bytes] = set()
    for item in recorded:
        if not isinstance(item, dict):
            return "log entry (intoto) has a malformed signature"
        if not signed.signer_matches(item.get("publicKey")):
            return "log entry (intoto) was made with another certificate or key"
        found.update(_sig_candidates(item.get("sig")))
    if not set(signed.signatures) <= found or len(recorded) != len(signed.signatures):
        return "log entry (intoto) records other signatures than this envelope"
    return None


def _bind_intoto_v1(spec: dict[str, Any], signed: Signed, payload_sha: str) -> str | None:
    content = spec.get("content")
    if not isinstance(content, dict):
        return "log entry (intoto/0.0.1) has no 'content'"
    if _hash_value(content.get("payloadHash"), "payloadHash") != payload_sha:
        return "log entry (intoto) records another payload than this envelope"
    if not signed.signer_matches(spec.get("publicKey")):
        return "log entry (intoto) was made with another certificate or key"
    if signed.envelope is None:
        return "log entry (intoto/0.0.1) can only be bound to the exact envelope bytes"
    if _hash_value(content.get("hash"), "hash") != hashlib.sha256(signed.envelope).hexdigest():
        return "log entry (intoto) records another envelope (signatures differ)"
    return None


def _bind_hashedrekord(spec: dict[str, Any], signed: Signed, payload_sha: str) -> str | None:
    data = spec.get("data")
    signature = spec.get("signature")
    if not isinstance(data, dict) or not isinstance(signature, dict):
        return "log entry (hashedrekord) is malformed"
    if _hash_value(data.get("hash"), "data hash") != payload_sha:
        return "log entry (hashedrekord) records another artifact than this payload"
    public_key = signature.get("publicKey")
    if not signed.signer_matches(public_key.get("content") if isinstance(public_key, dict) else None):
        return "log entry (hashedrekord) was made with another certificate or key"
    if not set(signed.signatures) & _sig_candidates(signature.get("content")):
        return "log entry (hashedrekord) records another signature"
    return None
