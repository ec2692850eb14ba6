"""Trusted root loading: file, embedded production root, and fail-closed errors (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

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
