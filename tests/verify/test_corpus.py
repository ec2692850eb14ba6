"""Every signature in the real-data corpus reaches the verdict its SOURCES.md gives.

The table below names each case, the trusted root it is verified with, the signer policy (when
the SOURCES.md verdict depends on who signed), and the expected outcome: ``pass`` or the rule id
it fails with. Two guards keep the table honest against the corpus: every signature-bearing file
listed in the SOURCES.md files must have a row, and a row's pass/fail must agree with the
``expected:`` line of its SOURCES.md entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.cosign import verify_cosign_layer
from slsalint.verify.dsse import verify_legacy_dsse
from slsalint.verify.identity import SignerPolicy, match
from slsalint.verify.result import SIGNER_MISMATCH, Verification
from slsalint.verify.trust import TrustRoot

DIRS = (
    "sigstore-conformance",
    "github-attestations",
    "slsa-github-generator",
    "oci-layouts",
    "cosign-v3-referrers",
)
PUBLIC_GOOD = "trust-roots/sigstore-public-good.production.trusted_root.json"
STAGING = "trust-roots/sigstore-staging.trusted_root.json"
GHA = "https://token.actions.githubusercontent.com"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DOCKER_BUILDER = (
    "https://github.com/docker/github-builder-experimental/.github/workflows/build.yml"
    "@refs/heads/build-reusable-workflow"
)
GENERATOR = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"


@dataclass(frozen=True)
class Case:
    file: str
    expect: str
    """``pass``, or the rule id the case must fail with."""
    root: str = PUBLIC_GOOD
    signer: SignerPolicy | None = None
    identity: str | None = None
    """The certificate SAN a verified signature must carry."""
    artifact: str | None = None
    """``file:PATH`` (hash of a corpus file) or a digest the signature must be about."""
    line: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def id(self) -> str:
        suffix = f"[{self.note}]" if self.note else ""
        line = f":{self.line}" if self.line is not None else ""
        return f"{self.file}{line}{suffix}"


def own_root(case_dir: str) -> str:
    return f"sigstore-conformance/{case_dir}/trusted_root.json"


def gha(
    identity: str | None = None, regexp: str | None = None, issuer: str = GHA, **github: str
) -> SignerPolicy:
    return SignerPolicy(identity=identity, identity_regexp=regexp, issuer=issuer, github=github)


CASES = [
    # -- sigstore-conformance ---------------------------------------------------------------------
    Case("sigstore-conformance/bundle-unknown-version_fail/bundle.sigstore.json", "SL105"),
    Case("sigstore-conformance/dsse-invalid-sig_fail/bundle.sigstore.json", "SL202"),
    Case("sigstore-conformance/dsse-mismatch-envelope_fail/bundle.sigstore.json", "SL202"),
    Case("sigstore-conformance/dsse-mismatch-sig_fail/bundle.sigstore.json", "SL202"),
    Case(
        "sigstore-conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
        "pass",
        signer=gha(BEACON),
        identity=BEACON,
        artifact="sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    ),
    Case("sigstore-conformance/happy-path-v0.1/bundle.sigstore.json", "pass", identity=BEACON),
    Case("sigstore-conformance/happy-path-v0.2/bundle.sigstore.json", "pass", identity=BEACON),
    Case("sigstore-conformance/happy-path-v0.3-new-mediaType/bundle.sigstore.json", "pass", identity=BEACON),
    Case("sigstore-conformance/happy-path-v0.3/bundle.sigstore.json", "pass", identity=BEACON),
    Case(
        "sigstore-conformance/intoto-expired-certificate_fail/bundle.sigstore.json",
        "SL202",
        root=own_root("intoto-expired-certificate_fail"),
    ),
    Case(
        "sigstore-conformance/intoto-log-entry-mismatch_fail/bundle.sigstore.json",
        "SL202",
        root=own_root("intoto-log-entry-mismatch_fail"),
    ),
    Case(
        "sigstore-conformance/intoto-missing-inclusion-proof_fail/bundle.sigstore.json",
        "SL204",
        root=own_root("intoto-missing-inclusion-proof_fail"),
    ),
    Case(
        "sigstore-conformance/intoto-set-outside-signing-cert-validity_fail/bundle.sigstore.json",
        "SL202",
        root=own_root("intoto-set-outside-signing-cert-validity_fail"),
    ),
    Case(
        "sigstore-conformance/intoto-with-custom-trust-root/bundle.sigstore.json",
        "pass",
        root=own_root("intoto-with-custom-trust-root"),
        identity=BEACON,
        artifact="sha256:330a043220fa13e01d68a7db39c89e12b0c4c3b6a0346fe624b0903f1303b5b2",
    ),
    Case(
        "sigstore-conformance/intoto-with-custom-trust-root/bundle.sigstore.json",
        "SL202",
        note="public-good root",
    ),
    Case(
        "sigstore-conformance/rekor2-dsse-happy-path/bundle.sigstore.json",
        "pass",
        root=own_root("rekor2-dsse-happy-path"),
        identity=BEACON,
    ),
    Case(
        "sigstore-conformance/rekor2-dsse-invalid-sig_fail/bundle.sigstore.json",
        "SL202",
        root=own_root("rekor2-dsse-invalid-sig_fail"),
    ),
    Case(
        "sigstore-conformance/rekor2-dsse-mismatch-envelope_fail/bundle.sigstore.json",
        "SL202",
        root=own_root("rekor2-dsse-mismatch-envelope_fail"),
    ),
    # -- github-attestations --------------------------------------------------------------------
    Case(
        "github-attestations/FAIL-bcr-wrong-signer.MODULE.bazel.bundle-v0.3.intoto.jsonl",
        SIGNER_MISMATCH,
        signer=gha(regexp="^https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@"),
        identity="https://github.com/loosebazooka/aa-test/.github/workflows/malicious_attestation.yaml@refs/heads/main",
    ),
    Case("github-attestations/FAIL-github-provenance-demo.missing-cert.jsonl", "SL105"),
    Case("github-attestations/FAIL-github-provenance-demo.missing-verification-material.jsonl", "SL105"),
    Case("github-attestations/FAIL-sigstore-js-2.1.0.invalid-signature.bundle-v0.3.json", "SL202"),
    Case(
        "github-attestations/bcr-publish-to-bcr.MODULE.bazel.bundle-v0.3.intoto.jsonl",
        "pass",
        signer=gha(regexp="^https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@"),
        identity="https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1",
        artifact="sha256:06ce3309",
    ),
    Case(
        "github-attestations/bcr-release-ruleset.rules_lint-v1.3.1.tar.gz.bundle-v0.3.intoto.jsonl",
        "pass",
        signer=gha(
            regexp="^https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@"
        ),
        identity="https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0",
        artifact="sha256:1636f443",
    ),
    Case(
        "github-attestations/custom-issuer.too-legit.bundle-v0.3.json",
        "pass",
        signer=gha(regexp="^https://github.com/too-legit/", issuer=GHA + "/hammer-time"),
        identity="https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main",
    ),
    Case(
        "github-attestations/custom-issuer.too-legit.bundle-v0.3.json",
        SIGNER_MISMATCH,
        signer=gha(regexp="^https://github.com/too-legit/"),
        note="default issuer",
    ),
    Case(
        "github-attestations/github-provenance-demo-0.0.12.private-github-instance.bundle-v0.3.jsonl",
        "SL202",
        note="public-good root: unknown CA, no tlog",
    ),
    Case(
        "github-attestations/reusable-workflow.attest-demo.bundle-v0.3.json",
        "pass",
        signer=gha(
            regexp="^https://github.com/github/artifact-attestations-workflows/",
            **{"source-repository-owner-uri": "https://github.com/malancas"},
        ),
    ),
    Case(
        "github-attestations/reusable-workflow.attest-demo.bundle-v0.3.json",
        SIGNER_MISMATCH,
        signer=gha(regexp="^https://github.com/foo/bar/"),
        note="signer workflow foo/bar",
    ),
    Case(
        "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.1.json",
        "pass",
        identity="https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        artifact="sha512:90f223f9",
    ),
    Case(
        "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json",
        "pass",
        signer=gha(
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            **{"source-repository-uri": "https://github.com/sigstore/sigstore-js"},
        ),
        identity="https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
    ),
    Case(
        "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json",
        SIGNER_MISMATCH,
        signer=gha(regexp=".", **{"source-repository-uri": "https://github.com/fakeowner/fakerepo"}),
        note="--repo fakeowner/fakerepo",
    ),
    Case("github-attestations/sigstore-js-2.1.0.two-bundles.jsonl", "pass", line=1),
    Case("github-attestations/sigstore-js-2.1.0.two-bundles.jsonl", "pass", line=2),
    # -- slsa-github-generator ------------------------------------------------------------------
    Case("slsa-github-generator/FAIL-expired-cert.dsse-legacy.intoto.jsonl", "SL204"),
    Case("slsa-github-generator/FAIL-no-tlog-upload.dsse-legacy.intoto.jsonl", "SL204"),
    Case(
        "slsa-github-generator/FAIL-untrusted-builder.dsse-legacy.intoto.jsonl",
        "SL204",
        signer=gha(regexp="^" + re.escape(GENERATOR)),
        extra={"also": SIGNER_MISMATCH},
    ),
    Case("slsa-github-generator/annotated-tag.dsse-legacy.intoto.jsonl", "SL204"),
    Case(
        "slsa-github-generator/container-based-v1.7.0.workflow_dispatch.bundle-v0.1.slsa-v1.json",
        "pass",
        identity=GENERATOR + "builder_container-based_slsa3.yml@refs/tags/v1.7.0",
    ),
    Case(
        "slsa-github-generator/container-based-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json",
        "pass",
        signer=gha(regexp="^" + re.escape(GENERATOR + "builder_container-based_slsa3.yml@refs/tags/v")),
        identity=GENERATOR + "builder_container-based_slsa3.yml@refs/tags/v2.1.0",
        artifact="sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    Case(
        "slsa-github-generator/delegator-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json",
        "pass",
        identity=GENERATOR + "delegator_generic_slsa3.yml@refs/tags/v2.1.0",
    ),
    Case("slsa-github-generator/gha_generic-v1.2.0.workflow_dispatch.dsse-legacy.intoto.jsonl", "SL204"),
    Case(
        "slsa-github-generator/gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl",
        "pass",
        identity=GENERATOR + "generator_generic_slsa3.yml@refs/tags/v2.1.0",
        artifact="sha256:376e7e01",
    ),
    Case("slsa-github-generator/multi-subject.dsse-legacy.intoto.jsonl", "SL204"),
    # -- oci-layouts: cosign .att DSSE layers with their manifest annotations ---------------------
    Case(
        "oci-layouts/example-package-v1.9.0-buildkit-max/blobs/sha256/"
        "a5e176610c4305f4068a2d2e2884c5d57b3e28d46ccbb825a85212dc09010814",
        "pass",
        signer=gha(GENERATOR + "generator_container_slsa3.yml@refs/tags/v1.9.0"),
        identity=GENERATOR + "generator_container_slsa3.yml@refs/tags/v1.9.0",
        artifact="digest.txt:oci-layouts/example-package-v1.9.0-buildkit-max.digest.txt",
    ),
    Case(
        "oci-layouts/example-package-v2.1.0-buildkit-min/blobs/sha256/"
        "e163b472f2e5d66e5a2a45e26e020c51a0d2da7dc8b567b31fc2ebfd33dbc33a",
        "pass",
        signer=gha(
            GENERATOR + "generator_container_slsa3.yml@refs/tags/v2.1.0",
            **{"source-repository-ref": "refs/heads/main"},
        ),
        identity=GENERATOR + "generator_container_slsa3.yml@refs/tags/v2.1.0",
        artifact="digest.txt:oci-layouts/example-package-v2.1.0-buildkit-min.digest.txt",
    ),
    # -- cosign-v3-referrers: bundles signing the BuildKit attestation manifest -------------------
    *[
        Case(
            f"cosign-v3-referrers/{registry}.cosign-sign.bundle-v0.3.sigstore.json",
            "pass",
            signer=gha(
                DOCKER_BUILDER, **{"source-repository-uri": "https://github.com/docker/github-builder-test"}
            ),
            identity=DOCKER_BUILDER,
            artifact=f"file:cosign-v3-referrers/{registry}.buildkit-attestation-manifest.oci11-subject.json",
        )
        for registry in ("dockerhub", "ecr-public", "ghcr")
    ],
    *[
        Case(
            f"cosign-v3-referrers/{registry}.cosign-sign.bundle-v0.3.sigstore.json",
            "SL103",
            artifact=f"subject-of:cosign-v3-referrers/{registry}.buildkit-attestation-manifest.oci11-subject.json",
            note="checked against the image digest",
        )
        for registry in ("dockerhub", "ecr-public", "ghcr")
    ],
]


# -- running a case -----------------------------------------------------------------------------

_roots: dict[str, TrustRoot] = {}


def root(corpus: Path, name: str) -> TrustRoot:
    if name not in _roots:
        _roots[name] = TrustRoot.from_file(corpus / name)
    return _roots[name]


def documents(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".jsonl"):
        return [line for line in data.splitlines() if line.strip()]
    return [data]


def resolve_artifact(corpus: Path, artifact: str | None) -> str | None:
    if artifact is None or (artifact.count(":") == 1 and len(artifact.split(":")[1]) in (64, 128)):
        return artifact
    kind, _, rest = artifact.partition(":")
    if kind == "file":
        return "sha256:" + hashlib.sha256((corpus / rest).read_bytes()).hexdigest()
    if kind == "digest.txt":
        return (corpus / rest).read_text().split()[0].strip()
    if kind == "subject-of":
        subject = json.loads((corpus / rest).read_bytes())["subject"]["digest"]
        assert isinstance(subject, str)
        return subject
    return None  # a digest prefix: checked against subject_digests below


def layer_annotations(corpus: Path, blob: Path) -> dict[str, str]:
    """The annotations of the cosign .att manifest layer that references ``blob``."""
    digest = "sha256:" + blob.name
    for candidate in blob.parent.iterdir():
        try:
            manifest = json.loads(candidate.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(manifest, dict):
            continue
        for layer in manifest.get("layers") or []:
            if layer.get("digest") == digest:
                annotations = layer.get("annotations") or {}
                return {str(k): str(v) for k, v in annotations.items()}
    raise AssertionError(f"no manifest layer references {blob}")


def verify_case(corpus: Path, case: Case) -> Verification:
    path = corpus / case.file
    trust = root(corpus, case.root)
    artifact = resolve_artifact(corpus, case.artifact)
    if case.file.startswith("oci-layouts/"):
        return verify_cosign_layer(path.read_bytes(), layer_annotations(corpus, path), trust, kind="att")
    data = documents(path)[(case.line or 1) - 1]
    document = json.loads(data)
    if "payloadType" in document and "verificationMaterial" not in document:
        return verify_legacy_dsse(document, trust)
    return verify_bundle(data, trust, artifact_digest=artifact)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corpus_case_reaches_its_verdict(corpus: Path, case: Case) -> None:
    result = verify_case(corpus, case)
    verdict_rules = set(result.rule_ids)
    policy_ok, reason = (True, "")
    if case.signer is not None and result.identity is not None:
        policy_ok, reason = match(result.identity, [case.signer])
        if not policy_ok:
            verdict_rules.add(SIGNER_MISMATCH)
    if case.expect == "pass":
        assert result.verified, result.problems
        assert policy_ok, reason
    else:
        assert not (result.verified and policy_ok), f"{case.id} passed but should fail with {case.expect}"
        assert case.expect in verdict_rules, (verdict_rules, result.problems, reason)
        for also in [case.extra.get("also")] if case.extra.get("also") else []:
            assert also in verdict_rules, (verdict_rules, reason)
    if case.identity is not None:
        assert result.identity is not None and result.identity.subject == case.identity
    if result.verified:
        # every verified signature records who signed it and when the log saw it
        assert result.identity is not None and result.identity.issuer
        assert result.identity.certificate_pem and result.identity.key_fingerprint
        assert result.log_index is not None and result.integrated_time is not None
        if case.artifact is not None and resolve_artifact(corpus, case.artifact) is None:
            prefix = case.artifact
            digests = result.subject_digests | ({result.signed_digest} if result.signed_digest else set())
            assert any(d.startswith(prefix) for d in digests), digests


# -- keeping the table in step with the corpus ------------------------------------------------------

_ENTRY = re.compile(r"^## `(?P<file>[^`]+)`\s*$(?P<body>.*?)(?=^## `|\Z)", re.M | re.S)


def sources(corpus: Path) -> Iterator[tuple[str, str]]:
    """(path relative to the corpus, text of its ``expected:`` line) for the verified directories."""
    for directory in DIRS:
        text = (corpus / directory / "SOURCES.md").read_text()
        for entry in _ENTRY.finditer(text):
            expected = re.search(r"^- expected: (.*)$", entry.group("body"), re.M)
            yield f"{directory}/{entry.group('file')}", expected.group(1) if expected else ""


def is_signature_document(path: Path) -> bool:
    if not path.is_file() or path.name == "trusted_root.json":
        return False
    for data in documents(path):
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return False
        if not isinstance(document, dict):
            return False
        if "verificationMaterial" in document or "dsseEnvelope" in document:
            return True
        if "payloadType" in document and "signatures" in document:
            return True
    return False


def test_every_signature_in_the_corpus_has_a_row(corpus: Path) -> None:
    listed = {file for file, _ in sources(corpus)}
    wanted = {file for file in listed if is_signature_document(corpus / file)}
    covered = {case.file for case in CASES}
    assert wanted - covered == set(), "corpus signatures without a verdict row"
    assert covered - listed == set(), "rows for files the SOURCES.md files do not list"
    assert len(wanted) >= 40


def test_rows_agree_with_the_sources_verdicts(corpus: Path) -> None:
    """FAIL in SOURCES.md means a failing row; PASS/VALID means a passing row, except where the
    SOURCES.md (or the corpus README) says the verdict needs a signer choice, another root, or an
    online Rekor lookup — those rows carry a note, a signer, a root, or fail with SL204."""
    expected = dict(sources(corpus))
    readme = (corpus / "README.md").read_text()
    assert "needs an online Rekor lookup" in readme
    for case in CASES:
        text = expected[case.file]
        says_fail = text.startswith("FAIL")
        if case.expect == "pass":
            assert not says_fail, case.id
        elif case.expect == "SL204":
            assert says_fail or "dsse-legacy" in case.file, case.id
        elif not says_fail:
            # a passing entry may fail only under a stated condition
            assert case.note or case.expect == SIGNER_MISMATCH, case.id
            assert any(word in text for word in ("FAIL", "only", "fails", "Subject must")), case.id


# -- properties checked on real bundles -------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in CASES
        if not c.file.startswith("oci-layouts/") and "dsse-legacy" not in c.file and not c.note
    ],
    ids=lambda c: c.id,
)
def test_parsed_and_raw_bundles_reach_the_same_verdict(corpus: Path, case: Case) -> None:
    data = documents(corpus / case.file)[(case.line or 1) - 1]
    trust = root(corpus, case.root)
    artifact = resolve_artifact(corpus, case.artifact)
    from_bytes = verify_bundle(data, trust, artifact_digest=artifact)
    from_dict = verify_bundle(json.loads(data), trust, artifact_digest=artifact)
    assert (from_dict.verified, from_dict.rule_ids) == (from_bytes.verified, from_bytes.rule_ids)


def test_trusted_root_ca_windows_apply_to_sigstore_verified_bundles(corpus: Path) -> None:
    document = json.loads((corpus / PUBLIC_GOOD).read_bytes())
    for authority in document["certificateAuthorities"]:
        authority["validFor"]["end"] = "2022-01-01T00:00:00Z"
    closed = TrustRoot.from_json(json.dumps(document).encode(), source="closed root")
    data = (corpus / "sigstore-conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json").read_bytes()
    assert verify_bundle(data, root(corpus, PUBLIC_GOOD)).verified
    result = verify_bundle(data, closed)
    assert not result.verified and result.rule_ids == {"SL202"}
    assert "not valid in the trusted root" in result.message


def test_verification_prints_nothing(corpus: Path, tmp_path: Path) -> None:
    """sigstore-python warns through logging when a bundle ships a root CA; with no logging set
    up, Python would print that to stderr. The library keeps quiet (the CLI owns the output)."""
    case = "slsa-github-generator/container-based-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json"
    document = json.loads((corpus / case).read_bytes())
    fulcio_root = root(corpus, PUBLIC_GOOD).fulcio[-1].root
    from cryptography.hazmat.primitives import serialization

    der = fulcio_root.public_bytes(serialization.Encoding.DER)
    chain = document["verificationMaterial"]["x509CertificateChain"]["certificates"]
    chain.append({"rawBytes": base64.b64encode(der).decode()})
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(document))
    script = (
        "import sys; from pathlib import Path\n"
        "from slsalint.verify.bundle import verify_bundle\n"
        "from slsalint.verify.trust import TrustRoot\n"
        "r = verify_bundle(Path(sys.argv[1]).read_bytes(), TrustRoot.from_file(sys.argv[2]))\n"
        "sys.exit(0 if r.verified else 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bundle), str(corpus / PUBLIC_GOOD)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_embedded_production_root_verifies_public_good_bundles(corpus: Path) -> None:
    data = (corpus / "github-attestations/reusable-workflow.attest-demo.bundle-v0.3.json").read_bytes()
    assert verify_bundle(data, TrustRoot.production()).verified
