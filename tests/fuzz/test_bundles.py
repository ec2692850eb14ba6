"""Fuzz bundle parsing and verification, and trusted-root loading.

Contract under test:

- ``verify_bundle`` on any bytes, and on any single-field mutation of a valid bundle (a value of
  another type or content, a deleted field, an extra field), returns a ``Verification`` whose
  problems are one-line messages; it never raises.
- It never passes what must be refused: a mutated bundle verifies only when the mutation left it
  meaning the same (an equal value written another way, a field nothing authenticates and nothing
  reads for the verdict, such as ``keyid`` or the ``messageDigest`` hint, or an unknown field).
- ``TrustRoot.from_json`` on any mutation of a valid root returns a root or raises a one-line
  ``TrustRootError``, nothing else.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.errors import TrustRootError
from slsalint.verify.result import Verification
from slsalint.verify.trust import TrustRoot
from tests.support.pki import TestPKI, statement

PKI = TestPKI("fuzz-bundles")
TRUST = TrustRoot.from_json(json.dumps(PKI.trusted_root()).encode(), source="fuzz root")
LEAF = PKI.leaf()
DIGEST_HEX = "5e" * 32
PAYLOAD = json.dumps(statement(DIGEST_HEX)).encode()
ARTIFACT = b"fuzzed artifact\n"
BUNDLES: dict[str, tuple[dict[str, Any], str]] = {
    "dsse": (PKI.dsse_bundle(PAYLOAD, LEAF), f"sha256:{DIGEST_HEX}"),
    "intoto": (PKI.intoto_bundle(PAYLOAD, LEAF), f"sha256:{DIGEST_HEX}"),
    "message": (
        PKI.message_bundle(ARTIFACT, LEAF, version="0.3"),
        "sha256:" + hashlib.sha256(ARTIFACT).hexdigest(),
    ),
}
HINTS = (
    "dsseEnvelope.signatures.0.keyid",
    "messageSignature.messageDigest.algorithm",
)
"""Fields no verifier authenticates and the verdict never depends on."""
OPTIONAL = ("messageSignature.messageDigest", "dsseEnvelope.signatures.0.keyid")
"""Fields whose absence changes nothing (the digest is an unauthenticated hint: the artifact's own
digest is what the signature is checked over)."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "AAAA", "-1", "0", "4242", "dsse", "0.0.1", "hashedrekord", "sha256"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths(value: Any, prefix: str = "") -> list[str]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, f"{prefix}.{index}" if prefix else str(index))
    return out


def parent_of(document: Any, path: str) -> tuple[Any, str | int]:
    node = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    return node, int(last) if isinstance(node, list) else last


def well_formed(result: Verification) -> None:
    assert isinstance(result, Verification)
    assert result.verified == (not result.problems)
    for problem in result.problems:
        assert problem.message and "\n" not in problem.message
        assert problem.rule_id in {"SL105", "SL103", "SL202", "SL204"}


def same_meaning(old: Any, new: Any) -> bool:
    return old == new or (isinstance(old, str | int) and not isinstance(new, bool) and str(old) == str(new))


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_verify(data: bytes) -> None:
    result = verify_bundle(data, TRUST)
    well_formed(result)
    assert not result.verified


@given(st.sampled_from(sorted(BUNDLES)), st.data())
def test_one_field_changed(kind: str, data: st.DataObject) -> None:
    original, digest = BUNDLES[kind]
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(paths(document)), label="path")
    parent, key = parent_of(document, path)
    old = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if action == "delete":
        del parent[key]
        new: Any = "<deleted>"
    elif action == "add" and isinstance(old, dict):
        extra = data.draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in old), label="field")
        old[extra] = data.draw(json_values, label="value")
        new = old
    else:
        new = data.draw(json_values, label="value")
        parent[key] = new
    result = verify_bundle(document, TRUST, artifact_digest=digest)
    well_formed(result)
    text = json.dumps(document).encode()
    assert verify_bundle(text, TRUST, artifact_digest=digest).rule_ids == result.rule_ids
    if result.verified:
        removed = action == "delete" or (action == "replace" and new is None)  # null is the default
        harmless = (
            action == "add"
            or path.startswith(HINTS)
            or (action == "replace" and same_meaning(old, new))
            or (removed and path in OPTIONAL)
        )
        assert harmless, f"{kind}: {action} {path} {old!r} -> {new!r} still verifies"


@given(st.data())
def test_trusted_root_mutations(data: st.DataObject) -> None:
    document = PKI.trusted_root()
    path = data.draw(st.sampled_from(paths(document)), label="path")
    parent, key = parent_of(document, path)
    if data.draw(st.booleans(), label="delete"):
        del parent[key]
    else:
        parent[key] = data.draw(json_values, label="value")
    try:
        root = TrustRoot.from_json(json.dumps(document).encode(), source="fuzzed.json")
    except TrustRootError as exc:
        message = str(exc)
        assert message.startswith("fuzzed.json: ") and "\n" not in message and len(message) < 500
        return
    assert root.fulcio and (root.rekor or root.tsa)
    result = verify_bundle(BUNDLES["dsse"][0], root, artifact_digest=BUNDLES["dsse"][1])
    well_formed(result)
