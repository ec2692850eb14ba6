"""Regenerate the input documents in ``rules/platform-team/testdata/`` (``*.input.json``).

The inputs are what slsalint feeds Rego for BuildKit-shaped statements (built with
``tests/support/buildkit.py`` and :func:`slsalint.rego_input.input_document`), so the pack's tests
and the conformance test see real input documents. The ``*.expected.json`` files next to them are
written by hand and are not touched here.

    python -m tests.rego.make_testdata
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slsalint.model import Attestation, EvidenceSource, Platform, PlatformTarget, Target
from slsalint.provenance import normalize
from slsalint.rego_input import input_document
from tests.support import buildkit as bk

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "rules" / "platform-team" / "testdata"
AMD64 = Platform("linux", "amd64")
IMAGE_DIGEST = "sha256:" + bk.fake_hex("platform-team", "image")
INDEX_DIGEST = "sha256:" + bk.fake_hex("platform-team", "index")
ATTESTATION_DIGEST = "sha256:" + bk.fake_hex("platform-team", "attestation")
REFERENCE = "oci:examples/platform-team:v1.0.0"
UNTRUSTED = [
    {
        "uri": "pkg:docker/evil.example.com/mirror/golang@1.22?digest=sha256:"
        + bk.fake_hex("evil")
        + "&platform=linux%2Famd64",
        "digest": {"sha256": bk.fake_hex("evil")},
    },
    {
        "uri": "pkg:docker/gcr.io/distroless/static-debian12?digest=sha256:"
        + bk.fake_hex("distroless")
        + "&platform=linux%2Famd64",
        "digest": {"sha256": bk.fake_hex("distroless")},
    },
]
HUB_USER = [
    {
        "uri": "pkg:docker/someuser/golang@1.22?digest=sha256:"
        + bk.fake_hex("someuser")
        + "&platform=linux%2Famd64",
        "digest": {"sha256": bk.fake_hex("someuser")},
    }
]
WITHOUT_LABELS = {
    "label:org.opencontainers.image.title": "app",
    "label:org.opencontainers.image.revision": "",
    "build-arg:GO_VERSION": "1.22",
}
INSECURE = {
    "label:org.opencontainers.image.source": bk.REPOSITORY,
    "label:org.opencontainers.image.revision": bk.COMMIT,
    "build-arg:GONOSUMDB": "*",
    "build-arg:GOINSECURE": "*.corp.example.com",
    "build-arg:GOPROXY": "https://proxy.golang.org",
}

CASES: dict[str, Callable[[str], dict[str, Any]]] = {
    "allowed": lambda d: bk.buildkit_v02_statement(d),
    "untrusted-base": lambda d: bk.buildkit_v02_statement(d, materials=UNTRUSTED),
    "docker-hub-user-image": lambda d: bk.buildkit_v02_statement(d, materials=HUB_USER),
    "missing-labels": lambda d: bk.buildkit_v02_statement(d, args=WITHOUT_LABELS),
    "insecure-args": lambda d: bk.buildkit_v02_statement(d, args=INSECURE),
    "mode-min-untrusted": lambda d: bk.buildkit_v02_statement(d, mode="min", materials=UNTRUSTED),
    "v1-untrusted-missing-labels": lambda d: bk.buildkit_v1_statement(
        d, materials=UNTRUSTED, args=WITHOUT_LABELS
    ),
    "sbom": lambda d: bk.spdx_statement(d),
}


def document(statement: dict[str, Any]) -> dict[str, Any]:
    source = EvidenceSource(
        "buildkit-attestation-manifest", f"{REFERENCE}@{ATTESTATION_DIGEST}", ATTESTATION_DIGEST
    )
    payload = bk.statement_bytes(statement)
    attestation = Attestation(
        source=source,
        envelope="statement",
        statement=json.loads(payload),
        payload=payload,
        predicate_type=statement["predicateType"],
        subjects=(),
        provenance=normalize(statement),
        stored_for=IMAGE_DIGEST,
    )
    platform = PlatformTarget(digest=IMAGE_DIGEST, platform=AMD64, attestations=[attestation])
    target = Target(
        reference=REFERENCE, kind="image", index_digest=INDEX_DIGEST, platforms=[platform], is_index=True
    )
    return input_document(target, platform, attestation)


def main() -> None:
    TESTDATA.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        data = document(make(IMAGE_DIGEST))
        path = TESTDATA / f"{name}.input.json"
        path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
