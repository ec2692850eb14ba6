"""Trusted root loading: file, embedded production root, and fail-closed errors (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slsalint.errors import OperationalError
from slsalint.verify.errors import TrustRootError
from slsalint.verify.trust import TrustRoot
from tests.support.pki import TestPKI


def test_generated_root_round_trips_through_a_file(pki: TestPKI, tmp_path: Path) -> None:
    path = pki.write_trusted_root(tmp_path)
    root = TrustRoot.from_file(path)
    assert root.source == str(path)
    assert [ca.certificates for ca in root.fulcio] == [(pki.intermediate_cert, pki.root_cert)]
    assert [key.log_id for key in root.rekor] == [pki.log_id]
    assert root.log_key(pki.log_id) is not None
    assert root.log_key(b"\x00" * 32) is None


def test_embedded_production_root_loads_offline() -> None:
    root = TrustRoot.production()
    assert root.source == "embedded:production"
    assert any(key.base_url == "https://rekor.sigstore.dev" for key in root.rekor)
    assert len(root.fulcio) >= 2
    # The sigstore-python view is built from the same bytes, without TUF.
    assert root.sigstore_verifier() is root.sigstore_verifier()


def test_embedded_root_matches_the_corpus_copy(corpus: Path) -> None:
    copy = TrustRoot.from_file(corpus / "trust-roots" / "sigstore-public-good.production.trusted_root.json")
    embedded = TrustRoot.production()
    assert {k.log_id for k in copy.rekor} <= {k.log_id for k in embedded.rekor}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=9"}',
            "unsupported trusted root",
        ),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
            "no certificate authority",
        ),
    ],
)
def test_malformed_roots_fail_closed_with_exit_3(tmp_path: Path, document: bytes, message: str) -> None:
    path = tmp_path / "trusted_root.json"
    path.write_bytes(document)
    with pytest.raises(TrustRootError, match=message) as caught:
        TrustRoot.from_file(path)
    assert isinstance(caught.value, OperationalError)
    assert caught.value.exit_code == 3
    assert str(path) in str(caught.value)


def test_bad_certificate_bytes_are_reported(pki: TestPKI, tmp_path: Path) -> None:
    document = pki.trusted_root()
    document["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = "AAAA"
    path = tmp_path / "root.json"
    path.write_text(json.dumps(document))
    with pytest.raises(TrustRootError, match="not a DER certificate"):
        TrustRoot.from_file(path)


def test_root_without_log_or_timestamp_authority_is_unusable(pki: TestPKI) -> None:
    document = pki.trusted_root()
    document["tlogs"] = []
    with pytest.raises(TrustRootError, match="neither a transparency log nor a timestamp authority"):
        TrustRoot.from_json(json.dumps(document).encode())


def test_missing_file_is_an_operational_error(tmp_path: Path) -> None:
    with pytest.raises(TrustRootError, match="cannot read trusted root"):
        TrustRoot.from_file(tmp_path / "absent.json")


def _edit(document: dict[str, Any], path: str, value: Any) -> None:
    node: Any = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


_DELETE = object()
MALFORMED: list[tuple[str, Any, str]] = [
    ("tlogs.0.publicKey.validFor.start", _DELETE, "tlogs[0].publicKey.validFor.start: missing"),
    ("tlogs.0.publicKey.validFor.start", 20240101, "tlogs[0].publicKey.validFor.start: expected an RFC 3339"),
    ("tlogs.0.publicKey.validFor.end", "yesterday", "tlogs[0].publicKey.validFor.end: malformed timestamp"),
    (
        "tlogs.0.publicKey.validFor.end",
        "2024-01-01T00:00:00",
        "validFor.end: timestamp '2024-01-01T00:00:00' has no time zone",
    ),
    ("tlogs.0.publicKey.rawBytes", "not base64!", "tlogs[0].publicKey.rawBytes: not valid base64"),
    ("tlogs.0.publicKey.rawBytes", "AAAA", "tlogs[0].publicKey.rawBytes: not a DER SubjectPublicKeyInfo"),
    ("tlogs.0.publicKey.keyDetails", "FOO", "tlogs[0].publicKey.keyDetails: unknown key type 'FOO'"),
    ("tlogs.0.publicKey", [], "tlogs[0].publicKey: expected an object, got an array"),
    ("tlogs.0.logId", _DELETE, "tlogs[0].logId: missing"),
    ("tlogs.0.logId.keyId", 5, "tlogs[0].logId.keyId: expected non-empty base64 text"),
    ("tlogs.0.hashAlgorithm", "MD5", "tlogs[0].hashAlgorithm: unknown hash algorithm 'MD5'"),
    ("tlogs.0.colour", "blue", "tlogs[0].colour: unknown field"),
    ("tlogs", {"a": 1}, "tlogs: expected a list, got an object"),
    ("ctlogs.0.baseUrl", ["x"], "ctlogs[0].baseUrl: expected a string, got an array"),
    ("certificateAuthorities.0.validFor", _DELETE, "certificateAuthorities[0].validFor: missing"),
    (
        "certificateAuthorities.0.certChain.certificates",
        [],
        "certChain.certificates: expected a non-empty list",
    ),
    (
        "certificateAuthorities.0.certChain.certificates.0.rawBytes",
        "AAAA",
        "certificates[0]: certificate is not a DER",
    ),
    (
        "certificateAuthorities.0.subject.commonName",
        4,
        "certificateAuthorities[0].subject.commonName: expected a string",
    ),
    ("certificateAuthorities.0", "ca", "certificateAuthorities[0]: expected an object, got a string"),
    ("extra", True, "extra: unknown field"),
]


@pytest.mark.parametrize(("path", "value", "message"), MALFORMED, ids=[p for p, _, _ in MALFORMED])
def test_malformed_root_names_the_file_and_the_field(
    pki: TestPKI, tmp_path: Path, path: str, value: Any, message: str
) -> None:
    document = pki.trusted_root()
    _edit(document, path, value)
    file = tmp_path / "trusted_root.json"
    file.write_text(json.dumps(document))
    with pytest.raises(TrustRootError) as caught:
        TrustRoot.from_file(file)
    text = str(caught.value)
    assert text.startswith(f"{file}: ") and message in text, text
    assert "\n" not in text and len(text) < 400
    assert caught.value.exit_code == 3


def test_every_real_root_loads_and_converts_for_sigstore(corpus: Path) -> None:
    """Whatever the own parser accepts, sigstore-python accepts too (so no error surfaces late)."""
    suite = Path(__file__).resolve().parents[1] / "assets" / "sigstore-conformance"
    roots = [*sorted((corpus / "trust-roots").glob("*.json")), *sorted(suite.glob("*/trusted_root.json"))]
    loaded = 0
    for path in roots:
        if path.parent.name == "trust-root-tlog-missing-validity-start_fail":
            with pytest.raises(TrustRootError, match=r"tlogs\[1\]\.publicKey\.validFor\.start: missing"):
                TrustRoot.from_file(path)
            continue
        TrustRoot.from_file(path).sigstore_root()
        loaded += 1
    assert loaded >= 30


def test_sigstore_refusals_are_condensed_to_one_line() -> None:
    from pydantic import BaseModel, ValidationError

    from slsalint.verify.trust import _pydantic_line

    class Inner(BaseModel):
        start: int

    class Outer(BaseModel):
        tlogs: list[Inner]

    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"tlogs": [{"start": 1}, {"start": "x"}, {}]})
    assert (
        _pydantic_line(caught.value)
        == "tlogs[1].start: Input should be a valid integer, unable to parse string as an integer (+1 more)"
    )


def test_timestamp_authority_windows_are_closed_for_sigstore_too(pki: TestPKI) -> None:
    from slsalint.verify.trust import _closed_tsa_windows

    document = {
        "timestampAuthorities": [
            {"validFor": {"start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"}}
        ]
    }
    moved = _closed_tsa_windows(document)
    assert moved["timestampAuthorities"][0]["validFor"]["end"] == "2025-01-01T00:00:00.000001+00:00"
    assert (
        document["timestampAuthorities"][0]["validFor"]["end"] == "2025-01-01T00:00:00Z"
    )  # not edited in place
