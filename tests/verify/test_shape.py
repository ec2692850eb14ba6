"""Malformed bundles and certificates are SL105 problems naming the field, never an exception.

A bundle is shape-checked before any verifier reads it (every field's JSON type, sizes, one of
each ``oneof``), and every certificate from outside is parsed whole when it is loaded
(extensions, key, names), so that a wrong type anywhere or a certificate with a malformed
extension is one line of SL105 on every path: sigstore-python's, slsalint's own, legacy cosign
layers and bare DSSE envelopes.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.certificates import CertificateError, load_der
from slsalint.verify.cosign import verify_cosign_layer
from slsalint.verify.dsse import verify_legacy_dsse
from slsalint.verify.errors import TrustRootError
from slsalint.verify.result import ENVELOPE_INVALID, Verification
from slsalint.verify.shape import ShapeError, check_bundle, proto_bytes
from slsalint.verify.trust import TrustRoot
from tests.support.pki import Leaf, MalformedKind, TestPKI, b64, dsse_envelope
from tests.verify.conftest import DIGEST

Edit = Callable[[dict[str, Any]], None]


def only_sl105(result: Verification) -> str:
    assert not result.verified
    assert result.rule_ids == {ENVELOPE_INVALID}, result.problems
    message = result.problems[0].message
    assert "\n" not in message
    return message


def set_at(path: str, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return edit


WRONG_TYPES: list[tuple[str, Any, str]] = [
    (
        "verificationMaterial.tlogEntries.0.kindVersion.kind",
        ["dsse"],
        "kindVersion.kind: expected a string, got an array",
    ),
    (
        "verificationMaterial.tlogEntries.0.kindVersion",
        "dsse",
        "kindVersion: expected an object, got a string",
    ),
    ("verificationMaterial.tlogEntries.0.logIndex", {"n": 1}, "logIndex: expected an integer, got an object"),
    ("verificationMaterial.tlogEntries.0.logIndex", "-1", "logIndex: must not be negative"),
    ("verificationMaterial.tlogEntries.0.logIndex", True, "logIndex: expected an integer, got a boolean"),
    ("verificationMaterial.tlogEntries.0.integratedTime", "soon", "integratedTime: expected an integer"),
    ("verificationMaterial.tlogEntries.0.logId.keyId", 7, "logId.keyId: expected base64 text, got a number"),
    (
        "verificationMaterial.tlogEntries.0.inclusionProof.hashes",
        "abc",
        "hashes: expected a list, got a string",
    ),
    ("verificationMaterial.tlogEntries.0.inclusionProof.checkpoint", [], "checkpoint: expected an object"),
    ("verificationMaterial.tlogEntries.0.canonicalizedBody", "%%%", "canonicalizedBody: not valid base64"),
    ("verificationMaterial.tlogEntries", {}, "tlogEntries: expected a list, got an object"),
    ("verificationMaterial.certificate", "MIIB", "certificate: expected an object, got a string"),
    ("verificationMaterial.certificate.rawBytes", None, "certificate.rawBytes: missing"),
    (
        "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
        3,
        "rfc3161Timestamps: expected a list",
    ),
    ("verificationMaterial", [], "verificationMaterial: expected an object, got an array"),
    ("dsseEnvelope.signatures", [], "dsseEnvelope.signatures: is empty"),
    (
        "dsseEnvelope.signatures.0.sig",
        12,
        "dsseEnvelope.signatures[0].sig: expected base64 text, got a number",
    ),
    ("dsseEnvelope.payloadType", None, "dsseEnvelope.payloadType: missing"),
    ("dsseEnvelope.payload", {"x": 1}, "dsseEnvelope.payload: expected base64 text, got an object"),
    ("mediaType", 3, "mediaType: expected a string, got a number"),
    ("messageSignature", {"signature": "AAAA"}, "holds both 'dsseEnvelope' and 'messageSignature'"),
]


@pytest.fixture
def bundle(pki: TestPKI, leaf: Leaf, payload: bytes) -> dict[str, Any]:
    document = pki.dsse_bundle(payload, leaf)
    document["verificationMaterial"]["timestampVerificationData"] = {"rfc3161Timestamps": []}
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"), WRONG_TYPES, ids=[f"{p}={v!r}" for p, v, _ in WRONG_TYPES]
)
def test_wrong_json_types_are_one_line_sl105(
    bundle: dict[str, Any], trust: TrustRoot, path: str, value: Any, message: str
) -> None:
    edited = copy.deepcopy(bundle)
    set_at(path, value)(edited)
    assert message in only_sl105(verify_bundle(edited, trust, artifact_digest=DIGEST))
    assert message in only_sl105(verify_bundle(json.dumps(edited).encode(), trust, artifact_digest=DIGEST))


@pytest.mark.parametrize(
    ("path", "value", "message"), WRONG_TYPES[:12], ids=[p for p, _, _ in WRONG_TYPES[:12]]
)
def test_wrong_types_on_the_own_path_too(
    pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot, path: str, value: Any, message: str
) -> None:
    document = pki.intoto_bundle(payload, leaf)  # intoto/0.0.2: slsalint's own verification
    document["verificationMaterial"]["timestampVerificationData"] = {"rfc3161Timestamps": []}
    set_at(path, value)(document)
    assert message in only_sl105(verify_bundle(document, trust, artifact_digest=DIGEST))


PROTO_NAMES = [
    ("verificationMaterial", "tlog_entries", "tlogEntries"),
    ("verificationMaterial.tlogEntries.0", "integrated_time", "integratedTime"),
    ("verificationMaterial.tlogEntries.0", "inclusion_promise", "inclusionPromise"),
    ("", "dsse_envelope", "dsseEnvelope"),
    ("dsseEnvelope", "payload_type", "payloadType"),
]


@pytest.mark.parametrize(("path", "proto", "json_name"), PROTO_NAMES, ids=[p for _, p, _ in PROTO_NAMES])
def test_a_field_under_its_protobuf_name_is_refused(
    bundle: dict[str, Any], trust: TrustRoot, path: str, proto: str, json_name: str
) -> None:
    # sigstore-python reads both spellings (protobuf JSON): a second field under the other name
    # would be read by the verifier and never seen by the checks, so it is one line of SL105.
    edited = copy.deepcopy(bundle)
    node: Any = edited
    for part in filter(None, path.split(".")):
        node = node[int(part)] if part.isdigit() else node[part]
    node[proto] = node.get(json_name, "x")
    where = f"{path.replace('.0', '[0]')}.{proto}" if path else proto
    message = f"{where}: the protobuf name of {json_name!r}"
    assert message in only_sl105(verify_bundle(json.dumps(edited).encode(), trust, artifact_digest=DIGEST))
    with pytest.raises(ShapeError, match=re.escape(message)):
        check_bundle(edited)


@pytest.mark.parametrize("document", [[], "bundle", 3, None], ids=["array", "string", "number", "null"])
def test_a_bundle_must_be_an_object(document: Any, trust: TrustRoot) -> None:
    assert "not a JSON object" in only_sl105(verify_bundle(json.dumps(document), trust))


@pytest.mark.parametrize("text", [b'{"mediaType": NaN}', b'{"a": 1e999}', b"[" * 200 + b"]" * 200])
def test_not_acceptable_json(text: bytes, trust: TrustRoot) -> None:
    assert "not valid JSON" in only_sl105(verify_bundle(text, trust))


def test_base64_with_line_breaks_is_accepted_like_go_does(bundle: dict[str, Any], trust: TrustRoot) -> None:
    raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
    wrapped = "\n".join(raw[i : i + 76] for i in range(0, len(raw), 76))
    assert proto_bytes(wrapped) == proto_bytes(raw)
    edited = copy.deepcopy(bundle)
    edited["verificationMaterial"]["certificate"]["rawBytes"] = wrapped
    check_bundle(edited)
    assert verify_bundle(edited, trust, artifact_digest=DIGEST).verified


@pytest.mark.parametrize("text", ["%%%", "A", "AAAA-_==", "AA==AA"])
def test_what_is_not_base64(text: str) -> None:
    with pytest.raises(ValueError, match="base64"):
        proto_bytes(text)
    with pytest.raises(ShapeError):
        check_bundle({"mediaType": "m", "verificationMaterial": {"certificate": {"rawBytes": text}}})


# -- certificates with a malformed extension ------------------------------------------------------

KINDS: list[MalformedKind] = ["san", "key-usage", "sct"]


@pytest.fixture(scope="module")
def broken_leaves(pki: TestPKI) -> dict[str, Leaf]:
    return {kind: pki.leaf(malformed=kind, key_seed=f"broken-{kind}") for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_loading_parses_every_extension(broken_leaves: dict[str, Leaf], kind: str) -> None:
    with pytest.raises(CertificateError, match="malformed extension"):
        load_der(broken_leaves[kind].der, "the certificate")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", ["sigstore-dsse", "sigstore-message", "own-intoto"])
def test_bundles_with_a_malformed_certificate_extension(
    pki: TestPKI, trust: TrustRoot, payload: bytes, broken_leaves: dict[str, Leaf], kind: str, route: str
) -> None:
    leaf = broken_leaves[kind]
    document = {
        "sigstore-dsse": lambda: pki.dsse_bundle(payload, leaf),
        "sigstore-message": lambda: pki.message_bundle(b"x", leaf, version="0.3"),
        "own-intoto": lambda: pki.intoto_bundle(payload, leaf),
    }[route]()
    message = only_sl105(verify_bundle(document, trust))
    assert "malformed extension" in message and "verificationMaterial.certificate" in message


@pytest.mark.parametrize("kind", KINDS)
def test_cosign_layers_with_a_malformed_certificate_extension(
    pki: TestPKI, trust: TrustRoot, payload: bytes, broken_leaves: dict[str, Leaf], kind: str
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, broken_leaves[kind])
    assert "malformed extension" in only_sl105(verify_cosign_layer(blob, annotations, trust, kind="att"))
    data, annotations = pki.cosign_sig_layer(DIGEST, broken_leaves[kind])
    assert "malformed extension" in only_sl105(verify_cosign_layer(data, annotations, trust, kind="sig"))
    good, annotations = pki.cosign_sig_layer(DIGEST, pki.leaf())
    annotations["dev.sigstore.cosign/chain"] = broken_leaves[kind].pem
    assert "malformed extension" in only_sl105(verify_cosign_layer(good, annotations, trust, kind="sig"))


def test_legacy_dsse_with_a_malformed_certificate(
    payload: bytes, trust: TrustRoot, broken_leaves: dict[str, Leaf]
) -> None:
    leaf = broken_leaves["san"]
    envelope = dsse_envelope(payload, leaf.key)
    envelope["signatures"][0]["cert"] = leaf.pem
    result = verify_legacy_dsse(envelope, trust)
    assert not result.verified and ENVELOPE_INVALID in result.rule_ids
    assert any("malformed extension" in p.message for p in result.problems)


def test_trusted_root_with_a_malformed_ca_certificate(
    pki: TestPKI, broken_leaves: dict[str, Leaf], tmp_path: Path
) -> None:
    document = pki.trusted_root()
    document["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = b64(
        broken_leaves["san"].der
    )
    path = tmp_path / "root.json"
    path.write_text(json.dumps(document))
    with pytest.raises(TrustRootError) as caught:
        TrustRoot.from_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: certificateAuthorities[0].certChain.certificates[0]: ")
    assert "malformed extension" in message and "\n" not in message
