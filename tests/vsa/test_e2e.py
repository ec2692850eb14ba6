"""VSAs end to end on the real registry: produce, push, verify; every refusal with its finding."""

from __future__ import annotations

import json
from pathlib import Path

from tests.faults.catalogue import Outcome, run
from tests.support.registry import Registry
from tests.vsa.conftest import VERIFIER, Image, KeyPair, push_image


def produce(image: Image, keys: KeyPair, out: Path, *extra: str) -> Outcome:
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
    )


def verify(*args: str | Path) -> Outcome:
    return run("verify-vsa", "--verifier-id", VERIFIER, "--format", "json", *args)


def ids(outcome: Outcome) -> list[str]:
    return sorted({f["ruleId"] for f in outcome.findings()})


def test_produce_push_verify(registry: Registry, tmp_path: Path, keys: KeyPair) -> None:
    image = push_image(registry, tmp_path, "vsa/app")
    out = tmp_path / "vsa.intoto.jsonl"
    made = produce(image, keys, out, "--vsa-push")
    assert made.code == 0, made.stderr
    assert "PASSED" in made.stderr and "pushed as referrer" in made.stderr
    [line] = out.read_bytes().splitlines()
    envelope = json.loads(line)
    assert envelope["signatures"][0]["keyid"].startswith("SHA256:")
    ok = verify(image.ref, "--public-key-path", keys.public)
    assert ok.code == 0, ok.stdout + ok.stderr
    assert ids(ok) == []
    from_file = verify(
        "--attestation-path",
        out,
        "--subject-digest",
        image.index,
        "--resource-uri",
        image.ref,
        "--public-key-path",
        keys.public,
    )
    assert from_file.code == 0, from_file.stdout + from_file.stderr
