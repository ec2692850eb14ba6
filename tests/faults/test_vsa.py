"""Fault rows for VSAs: bad flags, keys and files for `check --vsa` and `verify-vsa`, and VSAs
that must be refused (each with its finding). Exit 0 is never an accepted outcome."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import pki

VERIFIER = "https://ci.example.com/gate"
SUBJECT = "sha256:" + "ab" * 32
RESOURCE = "example.com/app:v1"


def _vsa(key: pki.PrivateKey, **predicate: object) -> bytes:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "example.com/app", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/verification_summary/v1",
        "predicate": {
            "verifier": {"id": VERIFIER},
            "timeVerified": "2026-01-01T00:00:00Z",
            "resourceUri": RESOURCE,
            "policy": {"uri": "file:slsalint.yaml", "digest": {"sha256": "cd" * 32}},
            "verificationResult": "PASSED",
            "verifiedLevels": ["SLSA_BUILD_LEVEL_2"],
            **predicate,
        },
    }
    payload = json.dumps(statement).encode()
    from slsalint.envelopes import pae

    sig = pki.sign(key, pae("application/vnd.in-toto+json", payload))
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    return json.dumps(envelope).encode() + b"\n"


KEY = pki.signing_key("p256", "faults-vsa")
OTHER = pki.signing_key("p256", "faults-other")

# (fault, file content or None, extra verify-vsa args)
VERIFY_ROWS: list[tuple[Fault, bytes | None, list[str]]] = [
    (Fault("not-json", 1, finding="SL105"), b"{oops\n", []),
    (Fault("not-dsse", 1, finding="SL105"), b'{"payload": 1}\n', []),
    (Fault("wrong-key", 1, finding="SL602"), _vsa(OTHER), []),
    (Fault("wrong-subject", 1, finding="SL603"), _vsa(KEY), ["--subject-digest", "sha256:" + "00" * 32]),
    (Fault("wrong-verifier", 1, finding="SL604"), _vsa(KEY, verifier={"id": "https://evil.example"}), []),
    (Fault("wrong-resource", 1, finding="SL605"), _vsa(KEY, resourceUri="example.com/other:v1"), []),
    (Fault("failed-result", 1, finding="SL606"), _vsa(KEY, verificationResult="FAILED"), []),
    (Fault("wrong-level", 1, finding="SL607"), _vsa(KEY), ["--verified-level", "SLSA_BUILD_LEVEL_3"]),
    (Fault("bad-level-format", 1, finding="SL104"), _vsa(KEY, verifiedLevels=["SLSA_BUILD_3"]), []),
    (Fault("expired", 1, finding="SL608"), _vsa(KEY), ["--max-age", "1h"]),
    (Fault("policy-digest", 1, finding="SL609"), _vsa(KEY), ["--policy-digest", "sha256:" + "ef" * 32]),
    (Fault("no-vsa", 1, finding="SL601"), b"", []),
    (
        Fault("bad-duration", 2, stderr=r"--max-age 'soon': expected a duration"),
        _vsa(KEY),
        ["--max-age", "soon"],
    ),
    (Fault("bad-policy-digest", 2, stderr=r"--policy-digest"), _vsa(KEY), ["--policy-digest", "md5:1"]),
    (
        Fault("bad-subject", 2, stderr=r"--subject-digest 'nodigest'"),
        _vsa(KEY),
        ["--subject-digest", "nodigest"],
    ),
    (Fault("no-file", 2, stderr=r"--attestation-path .*missing.jsonl: no such file"), None, []),
]


@pytest.mark.parametrize(("fault", "content", "extra"), VERIFY_ROWS, ids=ids([r[0] for r in VERIFY_ROWS]))
def test_verify_vsa_faults(tmp_path: Path, fault: Fault, content: bytes | None, extra: list[str]) -> None:
    public = tmp_path / "vsa.pub"
    public.write_bytes(pki.public_pem(KEY))
    path = tmp_path / ("missing.jsonl" if content is None else "vsa.intoto.jsonl")
    if content is not None:
        path.write_bytes(content)
    args = ["--subject-digest", SUBJECT, *extra] if "--subject-digest" not in extra else extra
    outcome = run(
        "verify-vsa",
        "--attestation-path",
        path,
        "--verifier-id",
        VERIFIER,
        "--resource-uri",
        RESOURCE,
        "--public-key-path",
        public,
        "--format",
        "json",
        *args,
        cwd=tmp_path,
    )
    assert_fault(fault, outcome)


def _private(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "vsa.key"
    path.write_bytes(data)
    return path


CHECK_ROWS: list[tuple[Fault, list[str]]] = [
    (
        Fault("vsa-without-key", 2, stderr=r"--vsa needs --vsa-key"),
        ["--vsa", "v.jsonl", "--verifier-id", VERIFIER],
    ),
    (
        Fault("vsa-without-verifier", 2, stderr=r"--vsa needs --verifier-id"),
        ["--vsa", "v.jsonl", "--vsa-key", "KEY"],
    ),
    (
        Fault("verifier-not-uri", 2, stderr=r"--verifier-id 'gate': expected an absolute URI"),
        ["--vsa", "v.jsonl", "--vsa-key", "KEY", "--verifier-id", "gate"],
    ),
    (
        Fault("key-missing", 2, stderr=r"--vsa-key .*nope.key: no such file"),
        ["--vsa", "v.jsonl", "--vsa-key", "nope.key", "--verifier-id", VERIFIER],
    ),
    (
        Fault("key-not-pem", 2, stderr=r"not a PEM private key"),
        ["--vsa", "v.jsonl", "--vsa-key", "GARBAGE", "--verifier-id", VERIFIER],
    ),
    (
        Fault("key-is-public", 2, stderr=r"PEM block 'PUBLIC KEY' is not a private key"),
        ["--vsa", "v.jsonl", "--vsa-key", "PUBLIC", "--verifier-id", VERIFIER],
    ),
    (
        Fault("encrypted-no-password", 2, stderr=r"set COSIGN_PASSWORD"),
        ["--vsa", "v.jsonl", "--vsa-key", "ENCRYPTED", "--verifier-id", VERIFIER],
    ),
    (Fault("push-without-vsa", 2, stderr=r"--vsa-push goes with --vsa"), ["--vsa-push"]),
    (
        Fault("cosign-without-push", 2, stderr=r"--vsa-push-cosign goes with --vsa-push"),
        ["--vsa", "v.jsonl", "--vsa-key", "KEY", "--verifier-id", VERIFIER, "--vsa-push-cosign"],
    ),
    (
        Fault("push-to-layout", 2, stderr=r"oci: layouts cannot take them"),
        ["--vsa", "v.jsonl", "--vsa-key", "KEY", "--verifier-id", VERIFIER, "--vsa-push"],
    ),
    (Fault("max-age-alone", 2, stderr=r"--vsa-max-age goes with --accept-vsa"), ["--vsa-max-age", "7d"]),
    (
        Fault("accept-bad-key", 2, stderr=r"--accept-vsa .*not a PEM or DER public key"),
        ["--accept-vsa", "GARBAGE"],
    ),
    (
        Fault("accept-bad-age", 2, stderr=r"--vsa-max-age '7 days'"),
        ["--accept-vsa", "PUBKEY", "--vsa-max-age", "7 days"],
    ),
]


@pytest.mark.parametrize(("fault", "args"), CHECK_ROWS, ids=ids([r[0] for r in CHECK_ROWS]))
def test_check_vsa_faults(tmp_path: Path, fault: Fault, args: list[str]) -> None:
    files = {
        "KEY": _private(
            tmp_path,
            KEY.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
        "GARBAGE": tmp_path / "garbage.key",
        "PUBLIC": tmp_path / "public.key",
        "PUBKEY": tmp_path / "vsa.pub",
        "ENCRYPTED": Path(__file__).resolve().parents[1] / "assets/vsa/conforma-empty-password.key",
    }
    files["GARBAGE"].write_bytes(b"hello\n")
    files["PUBLIC"].write_bytes(pki.public_pem(KEY))
    files["PUBKEY"].write_bytes(pki.public_pem(KEY))
    layout = Path(__file__).resolve().parents[2] / "examples/demo-image"
    resolved = [str(files.get(a, a)) for a in args]
    outcome = run("check", f"oci:{layout}", *resolved, cwd=tmp_path)
    assert_fault(fault, outcome)
