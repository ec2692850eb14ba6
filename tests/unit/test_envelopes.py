from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from slsalint.envelopes import DecodeError, b64decode, decode_document, pae, parse_json

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
        parse_json(b'{"a": 1, "a": 2}', "p", signed=True)


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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bundle(env: dict[str, object]) -> dict[str, object]:
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {},
        "dsseEnvelope": env,
    }


STATEMENT_TEXT = json.dumps(STATEMENT)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("NaN", "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ("1e999", "number 1e999 is out of range"),
        ("9" * 5000, "integer of 5000 digits is too long"),
        ("[" * 100 + "]" * 100, "nested more than 64 levels deep"),
        ("[" * 100_000, "nested more than 64 levels deep"),
        ('"\\udc00"', "a string holds a lone UTF-16 surrogate"),
    ],
)
def test_non_json_values_are_refused_in_every_container(value: str, problem: str) -> None:
    raw = STATEMENT_TEXT.replace('"predicate": {}', f'"predicate": {{"x": {value}}}')
    signed = envelope(raw.encode())
    cases = {
        "s.json": raw.encode(),  # a raw statement
        "e.json": json.dumps(signed).encode(),  # the signed payload of a DSSE envelope
        "b.json": json.dumps(_bundle(signed)).encode(),  # ... inside a bundle
        "p.intoto.jsonl": f"{json.dumps(envelope(STATEMENT_TEXT.encode()))}\n{raw}\n".encode(),
        "two.json": f"{STATEMENT_TEXT}\n{raw}\n".encode(),  # JSON Lines without the name
        "outer.json": json.dumps(envelope(STATEMENT_TEXT.encode()))[:-1].encode()
        + f', "x": {value}}}'.encode(),
    }
    where = {
        "s.json": "s.json",
        "e.json": "e.json payload",
        "b.json": "b.json dsseEnvelope payload",
        "p.intoto.jsonl": "p.intoto.jsonl line 2",
        "two.json": "two.json line 2",
        "outer.json": "outer.json",
    }
    for name, data in cases.items():
        with pytest.raises(DecodeError) as caught:
            decode_document(data, name=name)
        message = str(caught.value)
        assert message.startswith(f"{where[name]}: "), message
        assert problem in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbf" + STATEMENT_TEXT.encode(), "s.json: starts with a byte order mark (JSON must not)"),
        (STATEMENT_TEXT.encode("utf-16"), "s.json: not UTF-8 text (byte 0)"),
        (b"\n\n   \n", "s.json: empty"),
        (b"[1, 2]", "s.json is not a DSSE envelope, Sigstore bundle or in-toto statement"),
        (b'"text"', "s.json is not a DSSE envelope, Sigstore bundle or in-toto statement"),
        (b'{"_type": 1}', "s.json is not an in-toto statement (no '_type')"),
        (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": 7, "signatures": []}',
            "no string 'payload'",
        ),
        (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": "", "signatures": {}}',
            "no 'signatures' list",
        ),
        (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": "", "signatures": [{"sig": 1}]}',
            "s.json signature 0 has no string 'sig'",
        ),
        (
            json.dumps(envelope(b"[]")).encode(),
            "s.json payload is not a JSON object",
        ),
        (
            json.dumps({**_bundle(envelope(b"{}")), "verificationMaterial": []}).encode(),
            "s.json has no 'verificationMaterial'",
        ),
        (
            json.dumps({**_bundle(envelope(b"{}")), "mediaType": ["x"]}).encode(),
            "s.json has unsupported media type ['x']",
        ),
    ],
)
def test_malformed_documents_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_document(data, name="s.json")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_jsonl_blank_lines_and_broken_lines() -> None:
    good = json.dumps(envelope(STATEMENT_TEXT.encode()))
    decoded = decode_document(f"\n{good}\n   \n\r\n{good}\n\n".encode(), name="x.intoto.jsonl")
    assert [d.line for d in decoded] == [2, 5]
    unterminated = (
        r"^x.intoto.jsonl line 3: not valid JSON: Unterminated string starting at line 1 column 17$"
    )
    with pytest.raises(DecodeError, match=unterminated):
        decode_document(f"{good}\n{good}\n{good[:40]}\n".encode(), name="x.intoto.jsonl")
    # a pretty-printed single document with a bad value is not mistaken for JSON Lines
    pretty = json.dumps({**STATEMENT, "predicate": {"x": 1}}, indent=2).replace("1\n", "NaN\n")
    with pytest.raises(DecodeError, match=r"^p.json: NaN is not a JSON number$"):
        decode_document(pretty.encode(), name="p.json")


def test_duplicate_keys_are_refused_in_signed_payloads_only() -> None:
    duplicated = STATEMENT_TEXT[:-1] + ', "predicateType": "https://example.com/other"}'
    [raw] = decode_document(duplicated.encode(), name="s.json")
    assert raw.statement["predicateType"] == "https://example.com/other"
    with pytest.raises(DecodeError, match=r"^e.json payload: duplicate JSON key 'predicateType'$"):
        decode_document(json.dumps(envelope(duplicated.encode())).encode(), name="e.json")
    with pytest.raises(DecodeError, match=r"^b.json dsseEnvelope payload: duplicate JSON key"):
        decode_document(json.dumps(_bundle(envelope(duplicated.encode()))).encode(), name="b.json")


def test_signature_documents_are_recognised_without_parsing_every_statement() -> None:
    """The fast path skips files without the bundle key, but a key spelled with escapes is a
    bundle all the same (it would otherwise be judged as an attestation)."""
    import json as _json

    from slsalint.sources.oci import is_signature_document

    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}}
    assert is_signature_document(_json.dumps({**bundle, "messageSignature": {}}).encode())
    escaped = _json.dumps({**bundle, "messageSignature": {}}).replace(
        "verificationMaterial", "\\u0076erificationMaterial"
    )
    assert is_signature_document(escaped.encode())
    assert not is_signature_document(b'{"_type": "https://in-toto.io/Statement/v1", "x": "\\u003c"}')
    assert not is_signature_document(_json.dumps(bundle).encode())  # a bundle, but no message signature
