"""VSAs in ``explain``'s evidence tree: each layer that holds a VSA gets its verifier, result,
levels, policy digest, key id and age. The signature is not checked there (explain has no VSA
key): ``verify-vsa`` does that."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slsalint.sources.oci import Collected
from slsalint.vsa.predicate import PREDICATE_TYPE, VsaFormatError, parse_statement


def summaries(collected: Collected, *, now: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """Layer digest -> what the VSA in it says (or why it cannot be read)."""
    from slsalint import jsonio
    from slsalint.verify.dsse import DsseEnvelope, EnvelopeError
    from slsalint.vsa.verify import format_age

    now = now or dt.datetime.now(dt.UTC)
    out: dict[str, dict[str, Any]] = {}
    for evidence in collected.evidence:
        digest = evidence.source.digest
        if digest is None or digest in out:
            continue
        try:
            envelope = DsseEnvelope.parse(jsonio.load_object(evidence.data, unique_keys=True))
            statement = jsonio.load_object(envelope.payload, unique_keys=True)
        except (jsonio.JSONError, EnvelopeError):
            continue
        if statement.get("predicateType") != PREDICATE_TYPE:
            continue
        keyids = [s.keyid for s in envelope.signatures if s.keyid]
        try:
            vsa = parse_statement(statement)
        except VsaFormatError as exc:
            out[digest] = {"problem": str(exc), "keyIds": keyids}
            continue
        when = vsa.time_verified
        out[digest] = {
            "verifier": vsa.verifier_id,
            "result": vsa.result,
            "verifiedLevels": list(vsa.levels),
            "resourceUri": vsa.resource_uri,
            "policyDigest": "sha256:" + vsa.policy_digest["sha256"]
            if "sha256" in vsa.policy_digest
            else None,
            "timeVerified": when.isoformat() if when else None,
            "age": format_age(now - when) if when else None,
            "keyIds": keyids,
            "signature": "not checked here: slsalint verify-vsa --public-key-path KEY",
        }
    return out


def annotate(tree: dict[str, Any], collected: Collected) -> None:
    """Add ``vsa`` to every layer of the tree that holds a VSA."""
    found = summaries(collected)
    if not found:
        return
    nodes = [*tree.get("indexEvidence", []), *tree.get("otherEvidence", [])]
    for platform in tree.get("platforms", []):
        nodes += platform.get("evidence", [])
    for node in nodes:
        for layer in node.get("layers", []):
            summary = found.get(layer.get("digest"))
            if summary is not None:
                layer["vsa"] = summary


def describe(summary: dict[str, Any]) -> str:
    """One line for the text tree."""
    if "problem" in summary:
        return f"VSA that cannot be read: {summary['problem']}"
    levels = ", ".join(summary["verifiedLevels"]) or "no SLSA level"
    when = (
        f"verified {summary['timeVerified']} ({summary['age']} ago)" if summary["timeVerified"] else "no time"
    )
    keys = ", ".join(summary["keyIds"]) or "no key id"
    return (
        f"VSA {summary['result']} ({levels}) by {summary['verifier']}, {when}, policy "
        f"{summary['policyDigest']}, key {keys}; signature not checked (verify-vsa checks it)"
    )
