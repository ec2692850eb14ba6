"""VSAs end to end on the real registry: produce, push, verify; each refusal with its finding;
--accept-vsa skipping the work (requests counted through the loopback proxy) and re-checking."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from slsalint.envelopes import pae
from tests.faults.catalogue import Outcome, run
from tests.support import pki
from tests.support.proxy import proxy
from tests.support.registry import Registry
from tests.vsa.conftest import VERIFIER, Image, KeyPair, push_image, write_pair

ROOT = Path(__file__).resolve().parents[2]


def produce(image: Image, keys: KeyPair, out: Path, *extra: str | Path, cwd: Path) -> Outcome:
    return run(
        "check",
        image.ref,
        "--vsa",
        out,
        "--vsa-key",
        keys.private,
        "--verifier-id",
        VERIFIER,
        "--format",
        "json",
        *extra,
        cwd=cwd,
    )


def verify(cwd: Path, *args: str | Path) -> Outcome:
    return run("verify-vsa", "--verifier-id", VERIFIER, "--format", "json", *args, cwd=cwd)


def ids(outcome: Outcome) -> list[str]:
    return sorted({f["ruleId"] for f in outcome.findings()})


def statement_of(line: bytes) -> dict[str, Any]:
    envelope = json.loads(line)
    document: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return document


def resign(statement: dict[str, Any], key: pki.PrivateKey, keyid: str = "") -> bytes:
    """A VSA envelope over an edited statement, signed by ``key`` (what a forger with a key does)."""
    payload = json.dumps(statement).encode()
    signature = pki.sign(key, pae("application/vnd.in-toto+json", payload))
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": pki.b64(payload),
        "signatures": [{"keyid": keyid, "sig": pki.b64(signature)}],
    }
    return json.dumps(envelope).encode() + b"\n"


@pytest.fixture
def made(registry: Registry, tmp_path: Path, keys: KeyPair) -> tuple[Image, Path]:
    image = push_image(registry, tmp_path, "vsa/app")
    out = tmp_path / "vsa.intoto.jsonl"
    outcome = produce(image, keys, out, "--vsa-push", "--vsa-push-cosign", cwd=tmp_path)
    assert outcome.code == 0, outcome.stderr
    return image, out


def test_produce_push_verify(made: tuple[Image, Path], tmp_path: Path, keys: KeyPair) -> None:
    image, out = made
    [line] = out.read_bytes().splitlines()
    assert json.loads(line)["signatures"][0]["keyid"].startswith("SHA256:")
    ok = verify(tmp_path, image.ref, "--public-key-path", keys.public, "--max-age", "1h")
    assert ok.code == 0, ok.stdout + ok.stderr
    assert ids(ok) == [] and "Verifying VSA: PASSED" in ok.stderr
    from_file = verify(
        tmp_path,
        "--attestation-path",
        out,
        "--subject-digest",
        image.index,
        "--subject-digest",
        image.platforms[0],
        "--resource-uri",
        image.ref,
        "--public-key-path",
        keys.public,
    )
    assert from_file.code == 0, from_file.stdout + from_file.stderr


def test_vsa_validates_against_the_schema_and_in_toto_attestation(made: tuple[Image, Path]) -> None:
    from google.protobuf import json_format
    from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
    from in_toto_attestation.v1 import statement, statement_pb2

    image, out = made
    document = statement_of(out.read_bytes().splitlines()[0])
    schemas = ROOT / "schemas"
    registry_ = {json.loads(p.read_text())["$id"]: json.loads(p.read_text()) for p in schemas.glob("*.json")}
    stmt_schema = json.loads((schemas / "in-toto-statement-v1.json").read_text())
    vsa_schema = json.loads((schemas / "vsa-v1.json").read_text())
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.Draft202012Validator(stmt_schema, format_checker=checker).validate(document)
    jsonschema.Draft202012Validator(vsa_schema, format_checker=checker).validate(document["predicate"])
    assert registry_  # every shipped schema parses
    message = statement_pb2.Statement()
    json_format.ParseDict(document, message)
    statement.Statement.copy_from_pb(message).validate()
    predicate = dict(document["predicate"])
    predicate.pop("verifiedLevels")  # a list in the spec, one string in the 0.9 proto
    predicate["verifier"] = {"id": predicate["verifier"]["id"]}  # the proto lacks verifier.version
    summary = vsa_pb2.VerificationSummary()
    json_format.ParseDict(predicate, summary)
    assert summary.verification_result == "PASSED"
    assert summary.resource_uri == image.ref
    subjects = {f"sha256:{s.digest['sha256']}" for s in message.subject}
    assert subjects == {image.index, *image.platforms}
    assert len(summary.input_attestations) == 2  # one provenance per platform


def test_refusals(made: tuple[Image, Path], tmp_path: Path, keys: KeyPair, other_keys: KeyPair) -> None:
    image, out = made
    line = out.read_bytes().splitlines()[0]
    base = ["--resource-uri", image.ref, "--subject-digest", image.index]

    def file_case(data: bytes, *args: str | Path, key: Path = keys.public) -> list[str]:
        path = tmp_path / "case.intoto.jsonl"
        path.write_bytes(data)
        outcome = verify(tmp_path, "--attestation-path", path, "--public-key-path", key, *base, *args)
        assert outcome.code == 1, outcome.stdout + outcome.stderr
        assert "Verifying VSA: FAILED" in outcome.stderr
        return ids(outcome)

    envelope = json.loads(line)
    statement = statement_of(line)
    tampered = dict(statement, predicate=dict(statement["predicate"], resourceUri="evil"))
    forged = dict(envelope, payload=base64.b64encode(json.dumps(tampered).encode()).decode())
    assert file_case(json.dumps(forged).encode()) == ["SL602"]
    assert file_case(line, key=other_keys.public) == ["SL602"]
    assert file_case(line, "--public-key-id", "keystore://other") == ["SL602"]
    assert file_case(line, "--subject-digest", "sha256:" + "0" * 64) == ["SL603"]
    wrong_verifier = verify(
        tmp_path,
        "--attestation-path",
        out,
        "--public-key-path",
        keys.public,
        *base,
    )
    assert wrong_verifier.code == 0
    other = run(
        "verify-vsa",
        "--verifier-id",
        "https://ci.example.com/other",
        "--format",
        "json",
        "--attestation-path",
        out,
        "--public-key-path",
        keys.public,
        *base,
        cwd=tmp_path,
    )
    assert other.code == 1 and ids(other) == ["SL604"]
    assert file_case(line, "--verified-level", "SLSA_BUILD_LEVEL_2") == ["SL607"]
    # expired: a VSA signed with the right key, verified 8 days ago
    key = pki.signing_key("p256", "vsa-signer")
    old = dict(statement, predicate=dict(statement["predicate"], timeVerified="2020-01-01T00:00:00Z"))
    assert file_case(resign(old, key), "--max-age", "7d") == ["SL608"]
    failed = dict(statement, predicate=dict(statement["predicate"], verificationResult="FAILED"))
    assert file_case(resign(failed, key)) == ["SL606"]
    assert file_case(line, "--policy-digest", "sha256:" + "1" * 64) == ["SL609"]
    resource = run(
        "verify-vsa",
        "--verifier-id",
        VERIFIER,
        "--format",
        "json",
        "--attestation-path",
        out,
        "--public-key-path",
        keys.public,
        "--subject-digest",
        image.index,
        "--resource-uri",
        image.ref + "-staging",
        cwd=tmp_path,
    )
    assert resource.code == 1 and ids(resource) == ["SL605"]
    assert file_case(b"{not json\n") == ["SL105"]
    provenance_only = tmp_path / "p.jsonl"
    provenance = dict(statement, predicateType="https://slsa.dev/provenance/v1")
    assert file_case(resign(provenance, key)) == ["SL601"]
    assert provenance_only  # (names the case)


def test_wrong_key_and_subject_for_a_registry_image(
    made: tuple[Image, Path], registry: Registry, tmp_path: Path, other_keys: KeyPair, keys: KeyPair
) -> None:
    image, _ = made
    wrong = verify(tmp_path, image.ref, "--public-key-path", other_keys.public)
    assert wrong.code == 1 and ids(wrong) == ["SL602"]
    bare = push_image(registry, tmp_path, "vsa/bare", single=True)
    none = verify(tmp_path, bare.ref, "--public-key-path", keys.public)
    assert none.code == 1 and ids(none) == ["SL601"]
    # the VSA of another image copied next to this one (same repository): wrong subject
    other = verify(tmp_path, image.ref, "--public-key-path", keys.public, "--subject-digest", bare.index)
    assert other.code == 1 and ids(other) == ["SL603"]


def test_cosign_encrypted_key(registry: Registry, tmp_path: Path) -> None:
    image = push_image(registry, tmp_path, "vsa/cosign-key")
    key = ROOT / "tests/assets/vsa/conforma-empty-password.key"
    out = tmp_path / "vsa.jsonl"
    args: list[str | Path] = ["check", image.ref, "--vsa", out, "--vsa-key", key, "--verifier-id", VERIFIER]
    refused = run(*args, cwd=tmp_path, env={"COSIGN_PASSWORD": "wrong"})
    assert refused.code == 2 and "cannot decrypt the key" in refused.first_line
    unset = run(*args, cwd=tmp_path)
    assert unset.code == 2 and "COSIGN_PASSWORD" in unset.first_line
    ok = run(*args, cwd=tmp_path, env={"COSIGN_PASSWORD": ""})
    assert ok.code == 0, ok.stderr
    envelope = json.loads(out.read_bytes())
    assert envelope["signatures"][0]["keyid"] == "SHA256:tlcpFQr77JYsALfZJzye5+tjQdRB5anjcdD1ADuli6g"


@pytest.mark.parametrize("kind", ["p384", "ed25519", "rsa"])
def test_key_types(registry: Registry, tmp_path: Path, kind: pki.KeyKind) -> None:
    image = push_image(registry, tmp_path, f"vsa/{kind}")
    pair = write_pair(tmp_path, kind, "typed")
    out = tmp_path / "vsa.jsonl"
    assert produce(image, pair, out, cwd=tmp_path).code == 0
    ok = verify(
        tmp_path,
        "--attestation-path",
        out,
        "--subject-digest",
        image.index,
        "--resource-uri",
        image.ref,
        "--public-key-path",
        pair.public,
    )
    assert ok.code == 0, ok.stdout + ok.stderr


def test_accept_vsa_skips_work_and_rechecks_when_the_policy_changes(
    registry: Registry, tmp_path: Path, keys: KeyPair
) -> None:
    push_image(registry, tmp_path, "vsa/accept")
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\npacks: [recommended]\n")
    with proxy(registry.base, token="t0ken") as (host, state):
        ref = f"{host}/vsa/accept:v1.0.0"
        image = Image(ref, "", [])
        common: list[str | Path] = ["--policy", policy, "--no-cache"]
        first = produce(image, keys, tmp_path / "v.jsonl", "--vsa-push", *common, cwd=tmp_path)
        assert first.code == 0, first.stderr
        assert any("push" in q.get("scope", [""])[0] for q in state.token_requests)
        full = len(state.requests())
        state.log.clear()
        second = run(
            "check",
            ref,
            "--accept-vsa",
            keys.public,
            "--vsa-max-age",
            "1h",
            "--format",
            "json",
            *common,
            cwd=tmp_path,
        )
        assert second.code == 0, second.stderr
        [target] = json.loads(second.stdout)["targets"]
        assert target["passedByVsa"]["verifier"] == VERIFIER
        assert target["passedByVsa"]["verificationResult"] == "PASSED"
        assert not state.requests("/blobs/sha256:") or len(state.requests()) < full
        accepted = len(state.requests())
        assert accepted < full / 2, (accepted, full)
        # the policy changes: the VSA is for another policy digest, so the image is checked in full
        policy.write_text("version: 1\npacks: [recommended]\nrules:\n  SL403: {level: warning}\n")
        state.log.clear()
        third = run("check", ref, "--accept-vsa", keys.public, "--format", "json", *common, cwd=tmp_path)
        assert "passedByVsa" not in json.loads(third.stdout)["targets"][0]
        assert "no VSA accepted" in third.stderr and "SL609" in third.stderr
        assert len(state.requests()) > accepted
        # an untrusted key, and a stale VSA: checked in full too
        other = write_pair(tmp_path, "p256", "untrusted")
        policy.write_text("version: 1\npacks: [recommended]\n")
        fourth = run("check", ref, "--accept-vsa", other.public, "--format", "json", *common, cwd=tmp_path)
        assert "passedByVsa" not in json.loads(fourth.stdout)["targets"][0] and "SL602" in fourth.stderr


def test_accept_vsa_never_passes_a_failed_image(registry: Registry, tmp_path: Path, keys: KeyPair) -> None:
    image = push_image(registry, tmp_path, "vsa/failing")
    # SL201 with require-signers fails the image: its VSA says FAILED
    made = produce(image, keys, tmp_path / "v.jsonl", "--vsa-push", "--pack", "slsa-build-l2", cwd=tmp_path)
    assert made.code == 1 and "FAILED" in made.stderr
    again = run(
        "check",
        image.ref,
        "--accept-vsa",
        keys.public,
        "--pack",
        "slsa-build-l2",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert again.code == 1 and "SL606" in again.stderr
    assert "passedByVsa" not in json.loads(again.stdout)["targets"][0]


def test_build_level_claimed_only_when_the_pack_passes(
    registry: Registry, tmp_path: Path, keys: KeyPair
) -> None:
    image = push_image(registry, tmp_path, "vsa/levels")
    # provenance signed by a key: the slsa-build-l2 pack passes with that signer
    out = tmp_path / "v.jsonl"
    made = produce(image, keys, out, "--pack", "slsa-build-l2", "--disable", "SL201", cwd=tmp_path)
    # SL201 switched off: the pack did not run at its levels, so no level is claimed
    assert made.code == 0, made.stderr
    assert statement_of(out.read_bytes())["predicate"]["verifiedLevels"] == []


def test_explain_shows_vsas(made: tuple[Image, Path], tmp_path: Path) -> None:
    image, _ = made
    shown = run("explain", image.ref, "--format", "json", cwd=tmp_path)
    tree = json.loads(shown.stdout)["tree"]
    layers = [layer for node in tree["indexEvidence"] for layer in node["layers"] if "vsa" in layer]
    assert layers, tree["indexEvidence"]
    summary = layers[0]["vsa"]
    assert summary["verifier"] == VERIFIER and summary["result"] == "PASSED"
    assert summary["age"] and dt.datetime.fromisoformat(summary["timeVerified"])
    text = run("explain", image.ref, cwd=tmp_path)
    assert "VSA PASSED" in text.stdout and VERIFIER in text.stdout


def test_build_level_claimed_when_the_pack_passes(registry: Registry, tmp_path: Path, keys: KeyPair) -> None:
    """Provenance signed by the configured key: slsa-build-l2 passes, the VSA claims L2, and a
    consumer asking for L2 accepts it while one asking for L3 does not."""
    from slsalint.sources.layout_writer import LayoutWriter
    from tests.support import buildkit as bk
    from tests.support.images import AMD64

    signer = write_pair(tmp_path, "p256", "builder")
    writer = LayoutWriter(tmp_path / "signed")
    image = bk.add_platform_image(writer, AMD64, seed="signed-provenance")
    index = bk.add_index(writer, [image], ref_name="v1.0.0")
    statement = bk.buildkit_v02_statement(index["digest"])
    envelope = pki.dsse_envelope(bk.statement_bytes(statement), pki.signing_key("p256", "builder"))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    writer.write_index()
    registry.push_layout(tmp_path / "signed", "vsa/signed")
    ref = registry.ref("vsa/signed", "v1.0.0")
    out = tmp_path / "v.jsonl"
    made = produce(
        Image(ref, index["digest"], []),
        keys,
        out,
        "--pack",
        "slsa-build-l2",
        "--key",
        signer.public,
        cwd=tmp_path,
    )
    assert made.code == 0, made.stdout + made.stderr
    assert statement_of(out.read_bytes())["predicate"]["verifiedLevels"] == ["SLSA_BUILD_LEVEL_2"]
    base: list[str | Path] = [
        "--attestation-path",
        out,
        "--subject-digest",
        index["digest"],
        "--resource-uri",
        ref,
        "--public-key-path",
        keys.public,
    ]
    assert verify(tmp_path, *base, "--verified-level", "SLSA_BUILD_LEVEL_2").code == 0
    assert verify(tmp_path, *base, "--verified-level", "SLSA_BUILD_LEVEL_1").code == 0
    higher = verify(tmp_path, *base, "--verified-level", "SLSA_BUILD_LEVEL_3")
    assert higher.code == 1 and ids(higher) == ["SL607"]
