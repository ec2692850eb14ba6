from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from slsalint.envelopes import DecodeError, b64decode, decode_document, loads_strict, pae

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "a", "digest": {"sha256": "0" * 64}}],
    "predicateType": "https://example.com/p",
    "predicate": {},
}


def envelope(payload: bytes, *, urlsafe: bool = False, pad: bool = True) -> dict[str, object]:
    enc = base64.urlsafe_b64encode(payload) if urlsafe else base64.b64encode(payload)
    text = enc.decode()
    return {
        "payloadType": "application/vnd.in-toto+json",
        "payload": text if pad else text.rstrip("="),
        "signatures": [{"keyid": "", "sig": base64.b64encode(b"sig").decode()}],
    }


def test_pae_matches_the_dsse_spec_example() -> None:
    # From the DSSE protocol specification.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("pad", [False, True])
def test_dsse_standard_and_urlsafe_base64(urlsafe: bool, pad: bool) -> None:
    # '?>' encodes to characters that differ between the two alphabets.
    payload = json.dumps({**STATEMENT, "predicate": {"x": "??>>~~"}}).encode()
    [decoded] = decode_document(
        json.dumps(envelope(payload, urlsafe=urlsafe, pad=pad)).encode(), name="e.json"
    )
    assert decoded.envelope == "dsse"
    assert decoded.payload == payload
    assert decoded.statement["predicate"] == {"x": "??>>~~"}


def test_bad_base64_is_one_clear_line() -> None:
    bad = envelope(b"{}")
    bad["payload"] = "not*base64!"
    with pytest.raises(DecodeError, match=r"^e.json payload is not valid base64$"):
        decode_document(json.dumps(bad).encode(), name="e.json")


def test_truncated_base64() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        b64decode("abcde")


def test_duplicate_keys_in_signed_payload_rejected() -> None:
    payload = b'{"_type": "https://in-toto.io/Statement/v1", "predicateType": "a", "predicateType": "b"}'
    with pytest.raises(DecodeError, match="duplicate JSON key 'predicateType'"):
        decode_document(json.dumps(envelope(payload)).encode(), name="e.json")
    with pytest.raises(DecodeError, match="duplicate"):
        loads_strict(b'{"a": 1, "a": 2}')


def test_wrong_payload_type() -> None:
    env = envelope(json.dumps(STATEMENT).encode())
    env["payloadType"] = "text/plain"
    with pytest.raises(DecodeError, match="payloadType 'text/plain'"):
        decode_document(json.dumps(env).encode(), name="e.json")


def test_not_json_and_empty() -> None:
    with pytest.raises(DecodeError, match=r"^x.json: not valid JSON"):
        decode_document(b"{oops", name="x.json")
    with pytest.raises(DecodeError, match="empty"):
        decode_document(b"  \n", name="x.json")


def test_raw_statement_and_unknown_document() -> None:
    [decoded] = decode_document(json.dumps(STATEMENT).encode(), name="s.json")
    assert decoded.envelope == "statement"
    with pytest.raises(DecodeError, match="not a DSSE envelope, Sigstore bundle or in-toto statement"):
        decode_document(b'{"hello": "world"}', name="s.json")
    with pytest.raises(DecodeError, match="unsupported in-toto statement type"):
        decode_document(b'{"_type": "https://example.com/x"}', name="s.json")


def test_jsonl_names_the_bad_line() -> None:
    good = json.dumps(envelope(json.dumps(STATEMENT).encode()))
    data = f"{good}\n\n{good}\n".encode()
    decoded = decode_document(data, name="p.intoto.jsonl")
    assert [d.line for d in decoded] == [1, 3]
    with pytest.raises(DecodeError, match=r"p.intoto.jsonl line 2: not valid JSON"):
        decode_document(f"{good}\n{{broken\n".encode(), name="p.intoto.jsonl")


def test_bundle_media_types() -> None:
    env = envelope(json.dumps(STATEMENT).encode())
    for media_type, version in [
        ("application/vnd.dev.sigstore.bundle+json;version=0.1", "0.1"),
        ("application/vnd.dev.sigstore.bundle+json;version=0.2", "0.2"),
        ("application/vnd.dev.sigstore.bundle.v0.3+json", "0.3"),
    ]:
        bundle = {"mediaType": media_type, "verificationMaterial": {}, "dsseEnvelope": env}
        [decoded] = decode_document(json.dumps(bundle).encode(), name="b.json")
        assert decoded.envelope == "bundle" and decoded.bundle_version == version
    unknown = {
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.9",
        "verificationMaterial": {},
    }
    with pytest.raises(DecodeError, match="unsupported media type"):
        decode_document(json.dumps(unknown).encode(), name="b.json")


CORPUS_FILES = [
    "slsa-github-generator/gha_generic-v1.2.0.workflow_dispatch.dsse-legacy.intoto.jsonl",
    "slsa-github-generator/container-based-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json",
    "slsa-github-generator/container-based-v1.7.0.workflow_dispatch.bundle-v0.1.slsa-v1.json",
    "slsa-github-generator/gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl",
    "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json",
    "github-attestations/sigstore-js-2.1.0.two-bundles.jsonl",
    "buildkit/example-package-v1.9.0.provenance-v02-max.intoto.json",
    "buildkit/github-builder-test.provenance-v1-max.local-exporter.intoto.json",
]


@pytest.mark.parametrize("relative", CORPUS_FILES)
def test_real_documents_decode(corpus: Path, relative: str) -> None:
    path = corpus / relative
    decoded = decode_document(path.read_bytes(), name=path.name)
    assert decoded
    for item in decoded:
        assert item.statement["_type"].startswith("https://in-toto.io/Statement/")


def test_conformance_unknown_bundle_version_rejected(corpus: Path) -> None:
    path = corpus / "sigstore-conformance/bundle-unknown-version_fail/bundle.sigstore.json"
    with pytest.raises(DecodeError, match="unsupported media type"):
        decode_document(path.read_bytes(), name=path.name)
