"""Fuzz the VSA readers: a candidate is judged as not-a-VSA or with findings unless it is a
genuine, signed VSA; private-key and duration parsing give a value or one-line ConfigError."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from slsalint.errors import ConfigError
from slsalint.model import EvidenceSource
from slsalint.verify.keys import load_public_key
from slsalint.vsa.keys import parse_private_key
from slsalint.vsa.verify import Candidate, Expectations, judge
from tests.support import pki

KEY = pki.signing_key("p256", "fuzz-vsa")
EXPECT = Expectations(
    subject_digests=["sha256:" + "a" * 64],
    verifier_id="https://ci.example.com/gate",
    resource_uri="example.com/app:v1",
    keys=[load_public_key(pki.public_pem(KEY))],
)
SOURCE = EvidenceSource("file", "fuzz.jsonl")


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_pass(data: bytes) -> None:
    judgement = judge(Candidate(SOURCE, data), EXPECT)
    assert not judgement.ok
    for rule, message, *_ in judgement.problems:
        assert rule.startswith("SL") and "\n" not in message


statements = st.fixed_dictionaries(
    {
        "_type": st.sampled_from(["https://in-toto.io/Statement/v1", "x"]),
        "subject": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=5),
                    "digest": st.dictionaries(st.text(max_size=6), st.text(max_size=8)),
                }
            ),
            max_size=2,
        ),
        "predicateType": st.just("https://slsa.dev/verification_summary/v1"),
        "predicate": st.dictionaries(
            st.sampled_from(["verifier", "resourceUri", "policy", "verificationResult", "verifiedLevels"]),
            st.none() | st.text(max_size=8) | st.lists(st.text(max_size=8), max_size=2) | st.just({}),
        ),
    }
)


@given(statements)
def test_signed_garbage_statements_never_pass(statement: dict[str, object]) -> None:
    """Signed by the trusted key, but not a VSA that meets the expectations: never ok."""
    payload = json.dumps(statement).encode()
    from slsalint.envelopes import pae

    sig = pki.sign(KEY, pae("application/vnd.in-toto+json", payload))
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    judgement = judge(Candidate(SOURCE, json.dumps(envelope).encode()), EXPECT)
    assert not judgement.ok


@given(st.binary(max_size=1024))
def test_private_key_parser(data: bytes) -> None:
    body = (
        b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
        + base64.b64encode(data)
        + (b"\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    )
    for candidate in (data, body):
        try:
            parse_private_key(candidate, source="fuzz.key")
        except ConfigError as exc:
            assert "\n" not in str(exc) and str(exc).startswith("fuzz.key")
