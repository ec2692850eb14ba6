"""Image-signature payloads: digest binding (SL205) and annotations (SL206)."""

from __future__ import annotations

import json

import pytest

from slsalint.verify.simple_signing import check_image_signature, manifest_digest, parse_image_signature

IMAGE = "sha256:" + "12" * 32


def simple(digest: str, optional: dict[str, object] | None = None) -> bytes:
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": "quay.io/microcks/microcks"},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": optional,
        }
    ).encode()


def test_simple_signing_payload() -> None:
    parsed = parse_image_signature(simple(IMAGE, {"tag": "1.9.0", "build": 42}))
    assert parsed.manifest_digests == {IMAGE}
    assert parsed.docker_reference == "quay.io/microcks/microcks"
    assert parsed.annotations == {"tag": "1.9.0", "build": "42"}
    assert manifest_digest(simple(IMAGE)) == IMAGE


def test_digest_must_be_the_image_digest() -> None:
    problems = check_image_signature(simple("sha256:" + "34" * 32), IMAGE)
    assert [p.rule_id for p in problems] == ["SL205"]
    assert IMAGE in problems[0].message


def test_gitlab_style_annotations() -> None:
    payload = simple(IMAGE, {"tag": "v1.2.3", "pipeline": "99"})
    assert check_image_signature(payload, IMAGE, {"tag": "v1.2.3"}) == []
    problems = check_image_signature(payload, IMAGE, {"tag": "v1.2.4"})
    assert [p.rule_id for p in problems] == ["SL206"]
    assert check_image_signature(simple(IMAGE, None), IMAGE, {"tag": "v1.2.3"})[0].rule_id == "SL206"


def test_cosign_v3_sign_statement() -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": "12" * 32}, "annotations": {"tag": "v2"}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
    }
    payload = json.dumps(statement).encode()
    assert check_image_signature(payload, IMAGE, {"tag": "v2"}) == []
    assert [p.rule_id for p in check_image_signature(payload, "sha256:" + "00" * 32)] == ["SL205"]


def test_not_an_image_signature() -> None:
    assert [p.rule_id for p in check_image_signature(b"[]", IMAGE)] == ["SL105"]
    assert [p.rule_id for p in check_image_signature(b'{"critical": {}}', IMAGE)] == ["SL105"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 levels"),
        (b'{"critical": NaN}', "NaN is not a JSON number"),
        (b'{"critical": {}, "critical": {}}', "duplicate JSON key 'critical'"),
        (b'{"optional": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"optional": "\xff"}', "not UTF-8"),
    ],
)
def test_a_payload_that_is_not_acceptable_json_is_sl105(payload: bytes, message: str) -> None:
    # The signed payload is read by the strict reader: a duplicate key could give the verifier and
    # a policy two different digests; deep nesting must not exhaust the stack.
    problems = check_image_signature(payload, IMAGE)
    assert [p.rule_id for p in problems] == ["SL105"]
    assert problems[0].message.startswith("image signature payload: ")
    assert message in problems[0].message
