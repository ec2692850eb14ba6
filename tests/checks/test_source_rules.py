"""SL401-SL403 judge the image from the strongest evidence: verified signer certificates (GitHub
and GitLab claims), signed provenance, unsigned provenance, OCI annotations. Real slsa-github-
generator images from the corpus, and generated layouts signed by the test PKI, through the real
pipeline (collect -> decode -> verify -> checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, lint
from slsalint.model import Finding, Platform
from slsalint.policy import Policy, RuleSetting
from slsalint.signing import SigningSettings
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import OCI_INDEX
from slsalint.verify import SignerPolicy
from tests.support import buildkit as bk
from tests.support.pki import DEFAULT_ISSUER, Leaf, TestPKI, dsse_envelope, public_pem, signing_key

ROOT = Path(__file__).resolve().parents[2]
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
CONFIG = b'{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'
MIN_LAYOUT = "oci-layouts/example-package-v2.1.0-buildkit-min"
MAX_LAYOUT = "oci-layouts/example-package-v1.9.0-buildkit-max"
GENERATOR = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
FLEET = "https://github.com/rancher/fleet"
FLEET_IDENTITY = f"{FLEET}/.github/workflows/release.yml@refs/tags/v0.12.0"
GITLAB_IDENTITY = "https://gitlab.com/acme/app//.gitlab-ci.yml@refs/tags/v1.0.0"


def fleet_claims(ref: str = "refs/tags/v0.12.0", repository: str = FLEET) -> dict[str, str]:
    return {
        "source-repository-uri": repository,
        "source-repository-ref": ref,
        "source-repository-digest": "0123456789abcdef0123456789abcdef01234567",
        "build-trigger": "push",
    }


def rules(**options: dict[str, Any]) -> Policy:
    return Policy(rules={rule: RuleSetting(options=value) for rule, value in options.items()})


def source_findings(
    reference: str,
    policy: Policy,
    *,
    trusted_root: Path | None = None,
    signers: list[SignerPolicy] | None = None,
) -> list[Finding]:
    signing = SigningSettings(signers=signers or [], trusted_root=trusted_root)
    report = lint([LintRequest(target=reference)], LintOptions(policy=policy, signing=signing))
    return [f for f in report.findings if f.rule_id in ("SL401", "SL402", "SL403")]


def _manifest(writer: LayoutWriter, layers: list[dict[str, Any]]) -> dict[str, Any]:
    config = writer.descriptor(CONFIG, "application/vnd.oci.image.config.v1+json")
    body = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": layers,
    }
    return writer.descriptor(writer.json_bytes(body), "application/vnd.oci.image.manifest.v1+json")


def buildkit(
    digest: str, *, ref: str | None = None, repository: bool = True, commit: bool = True
) -> dict[str, Any]:
    """BuildKit v0.2 provenance (mode=max); ``ref`` sets BuildKit's ``github_ref``; without
    ``repository`` and ``commit`` it is a local build with no VCS information."""
    statement = bk.buildkit_v02_statement(
        digest,
        source_uri=bk.DEFAULT_SOURCE_URI if repository else None,
        commit=bk.COMMIT if commit else None,
    )
    if ref is not None:
        statement["predicate"]["invocation"]["environment"]["github_ref"] = ref
    return statement


def make_image(
    tmp_path: Path,
    pki: TestPKI,
    *,
    platforms: tuple[Platform, ...] = (AMD64, ARM64),
    statement: Any = buildkit,
    sign: Leaf | None = None,
    attest: tuple[dict[str, Any], Leaf | Any] | None = None,
    annotations: dict[str, str] | None = None,
    tag: str = "v0.12.0",
    name: str = "image",
) -> tuple[str, Path]:
    """An index with BuildKit provenance per platform; ``sign``: a keyless cosign ``.sig`` over the
    index; ``attest``: a cosign ``.att`` over the index holding (statement, leaf or private key);
    ``annotations``: of the index document. Returns (reference, trusted root)."""
    writer = LayoutWriter(tmp_path / name)
    manifests = []
    for platform in platforms:
        image = bk.add_platform_image(writer, platform, seed=f"{name}-{platform}")
        manifests.append(image)
        manifests.append(bk.add_attestation_manifest(writer, image, [statement(image["digest"])]))
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    if annotations:
        document["annotations"] = annotations
    index = writer.descriptor(writer.json_bytes(document), OCI_INDEX)
    writer.add_entry(index, ref_name=tag)
    prefix = index["digest"].replace(":", "-")
    if sign is not None:
        payload, layer_annotations = pki.cosign_sig_layer(index["digest"], sign)
        layer = writer.descriptor(
            payload, "application/vnd.dev.cosign.simplesigning.v1+json", annotations=layer_annotations
        )
        writer.add_entry(_manifest(writer, [layer]), ref_name=f"{prefix}.sig")
    if attest is not None:
        body, signer = attest
        body["subject"] = [{"name": "index", "digest": {"sha256": index["digest"].split(":")[1]}}]
        payload = json.dumps(body).encode()
        if isinstance(signer, Leaf):
            blob, layer_annotations = pki.cosign_att_layer(payload, signer)
        else:
            blob = json.dumps(dsse_envelope(payload, signer)).encode()
            layer_annotations = {"dev.cosignproject.cosign/signature": ""}
        layer_annotations["predicateType"] = str(body["predicateType"])
        layer = writer.descriptor(
            blob, "application/vnd.dsse.envelope.v1+json", annotations=layer_annotations
        )
        writer.add_entry(_manifest(writer, [layer]), ref_name=f"{prefix}.att")
    writer.write_index()
    return f"oci:{tmp_path / name}:{tag}", pki.write_trusted_root(tmp_path)


def github_provenance(ref: str, repository: str = FLEET) -> dict[str, Any]:
    """actions/attest-build-provenance's SLSA v1 predicate (subject filled in by make_image)."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": ref,
                        "repository": repository,
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [
                    {"uri": f"git+{repository}@{ref}", "digest": {"gitCommit": bk.COMMIT}}
                ],
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
        },
    }


@pytest.fixture
def pki() -> TestPKI:
    return TestPKI("source-rules")


# -- real slsa-github-generator images ----------------------------------------------------------


def test_generator_certificate_vouches_for_the_ref_buildkit_does_not_record(corpus: Path) -> None:
    # BuildKit mode=min provenance records no ref; the generator's cosign .att certificate
    # (production Sigstore, verified offline) records refs/heads/main.
    layout = f"oci:{corpus / MIN_LAYOUT}"
    assert source_findings(layout, rules(SL402={"refs": ["refs/heads/main"]})) == []
    [found] = source_findings(layout, rules(SL402={"refs": ["refs/tags/v*"]}))
    assert found.actual == "refs/heads/main"
    assert found.message.startswith("source ref 'refs/heads/main' from source-repository-ref of the verified")
    assert f"({GENERATOR}generator_container_slsa3.yml@refs/tags/v2.1.0" in found.message
    assert "(build trigger workflow_dispatch)" in found.message
    assert found.source is not None and found.source.startswith("cosign-att ")
    assert found.platform == "linux/amd64"


def test_generator_certificate_decides_the_repository(corpus: Path) -> None:
    layout = f"oci:{corpus / MAX_LAYOUT}"
    expected = rules(SL401={"repositories": ["github.com/slsa-framework/example-package"]})
    assert source_findings(layout, expected) == []
    [found] = source_findings(layout, rules(SL401={"repositories": ["github.com/slsa-framework/other"]}))
    assert found.actual == "https://github.com/slsa-framework/example-package"
    assert "source-repository-uri of the verified signer certificate" in found.message
    assert found.expected == ["github.com/slsa-framework/other"]


def test_a_signer_the_policy_rejects_vouches_for_nothing(corpus: Path) -> None:
    # With signers configured, only their certificates (and what they sign) rank above unsigned
    # evidence: here none matches, so the generator's statement counts as unsigned provenance.
    layout = f"oci:{corpus / MIN_LAYOUT}"
    other = SignerPolicy(identity_regexp="^https://github\\.com/acme/", issuer=DEFAULT_ISSUER, name="acme")
    [found] = source_findings(layout, rules(SL402={"refs": ["refs/tags/v*"]}), signers=[other])
    assert found.message.startswith("source ref 'refs/heads/main' from ")
    assert "of the unsigned slsa-github-generator provenance from cosign-att" in found.message
    assert "certificate" not in found.message


# -- generated images: certificates ---------------------------------------------------------------


def test_image_signature_certificate_vouches_for_every_platform(tmp_path: Path, pki: TestPKI) -> None:
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=fleet_claims())
    reference, root = make_image(tmp_path, pki, sign=leaf)
    policy = rules(
        SL402={"refs": ["refs/tags/v0.12.0"]}, SL401={"repositories": ["github.com/rancher/fleet"]}
    )
    assert source_findings(reference, policy, trusted_root=root) == []
    wrong = rules(SL402={"refs": ["refs/tags/v0.12.1"]})
    found = source_findings(reference, wrong, trusted_root=root)
    # one finding per platform, not one per evidence source
    assert sorted((f.rule_id, f.platform) for f in found) == [
        ("SL402", "linux/amd64"),
        ("SL402", "linux/arm64"),
    ]
    assert all("source-repository-ref of the verified signer certificate" in f.message for f in found)
    assert all(f.source is not None and f.source.startswith("cosign-sig ") for f in found)
    # without the signature nothing records the ref: BuildKit's silence is then a finding
    bare, _ = make_image(tmp_path, pki, name="bare")
    found = source_findings(bare, rules(SL402={"refs": ["refs/tags/v0.12.0"]}), trusted_root=root)
    assert [(f.rule_id, f.platform) for f in found] == [("SL402", "linux/amd64"), ("SL402", "linux/arm64")]
    assert all(
        f.message.startswith("no evidence records a source ref: examined unsigned BuildKit") for f in found
    )


def test_certificate_outranks_unsigned_provenance(tmp_path: Path, pki: TestPKI) -> None:
    # BuildKit records github_ref refs/heads/feature, the verified certificate refs/tags/v0.12.0:
    # the certificate decides, both ways.
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=fleet_claims())
    reference, root = make_image(
        tmp_path, pki, sign=leaf, statement=lambda d: buildkit(d, ref="refs/heads/feature")
    )
    assert source_findings(reference, rules(SL402={"refs": ["refs/tags/v0.12.0"]}), trusted_root=root) == []
    found = source_findings(reference, rules(SL402={"refs": ["refs/heads/feature"]}), trusted_root=root)
    assert {f.actual for f in found} == {"refs/tags/v0.12.0"}


def test_gitlab_certificate_claims(tmp_path: Path, pki: TestPKI) -> None:
    claims = {
        "source-repository-uri": "https://gitlab.com/acme/app",
        "source-repository-ref": "refs/tags/v1.0.0",
        "source-repository-digest": "89abcdef0123456789abcdef0123456789abcdef",
        "build-trigger": "push",
        "runner-environment": "gitlab-hosted",
    }
    leaf = pki.leaf(identity=GITLAB_IDENTITY, issuer="https://gitlab.com", claims=claims)
    reference, root = make_image(
        tmp_path,
        pki,
        sign=leaf,
        platforms=(AMD64,),
        statement=lambda d: buildkit(d, repository=False, commit=False),
    )
    signer = SignerPolicy(identity=GITLAB_IDENTITY, issuer="https://gitlab.com", name="gitlab")
    good = rules(SL401={"repositories": ["gitlab.com/acme/app"]}, SL402={"refs": ["refs/tags/v1.*"]})
    assert source_findings(reference, good, trusted_root=root, signers=[signer]) == []
    bad = rules(SL401={"repositories": ["gitlab.com/acme/other"]}, SL402={"refs": ["refs/heads/main"]})
    found = source_findings(reference, bad, trusted_root=root, signers=[signer])
    assert sorted(f.rule_id for f in found) == ["SL401", "SL402"]
    assert all(f"({GITLAB_IDENTITY}, issuer https://gitlab.com)" in f.message for f in found)


def test_legacy_github_claims(tmp_path: Path, pki: TestPKI) -> None:
    # certificates issued before source-repository-* existed carry github-workflow-* only
    claims = {
        "github-workflow-repository": "rancher/fleet",
        "github-workflow-ref": "refs/tags/v0.12.0",
        "github-workflow-sha": "0123456789abcdef0123456789abcdef01234567",
        "github-workflow-trigger": "push",
    }
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=claims)
    reference, root = make_image(tmp_path, pki, sign=leaf, platforms=(AMD64,))
    policy = rules(
        SL401={"repositories": ["github.com/rancher/fleet"]}, SL402={"refs": ["refs/tags/v0.12.0"]}
    )
    assert source_findings(reference, policy, trusted_root=root) == []
    [found] = source_findings(reference, rules(SL402={"refs": ["refs/heads/main"]}), trusted_root=root)
    assert "github-workflow-ref of the verified signer certificate" in found.message


def test_a_signature_that_does_not_verify_vouches_for_nothing(tmp_path: Path, pki: TestPKI) -> None:
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=fleet_claims())
    reference, _ = make_image(tmp_path, pki, sign=leaf, platforms=(AMD64,))
    other_root = TestPKI("another-instance").write_trusted_root(tmp_path)
    [found] = source_findings(
        reference, rules(SL402={"refs": ["refs/tags/v0.12.0"]}), trusted_root=other_root
    )
    assert found.message.startswith("no evidence records a source ref")


# -- generated images: signed provenance, annotations, commits ------------------------------------


def test_signed_provenance_outranks_unsigned(tmp_path: Path, pki: TestPKI) -> None:
    key = signing_key("p256", "release")
    (tmp_path / "release.pub").write_bytes(public_pem(key))
    reference, _ = make_image(
        tmp_path,
        pki,
        platforms=(AMD64,),
        statement=lambda d: buildkit(d, ref="refs/heads/feature"),
        attest=(github_provenance("refs/tags/v0.12.0"), key),
    )
    signer = [SignerPolicy(key=tmp_path / "release.pub", name="release key")]
    ok = rules(SL402={"refs": ["refs/tags/v0.12.0"]})
    assert source_findings(reference, ok, signers=signer) == []
    [found] = source_findings(reference, rules(SL402={"refs": ["refs/heads/feature"]}), signers=signer)
    assert "of the signed GitHub Actions (actions/attest-build-provenance) provenance" in found.message
    assert found.pointer == "/predicate/buildDefinition/externalParameters/workflow"
    # unverified (no key given), the same statement ranks with the BuildKit one: both must match
    [unsigned] = source_findings(reference, ok)
    assert unsigned.actual == "refs/heads/feature"
    assert "of the unsigned BuildKit provenance" in unsigned.message


def test_oci_annotations_are_the_weakest_evidence(tmp_path: Path, pki: TestPKI) -> None:
    local = {"org.opencontainers.image.source": FLEET, "org.opencontainers.image.revision": bk.COMMIT}
    reference, _ = make_image(
        tmp_path,
        pki,
        platforms=(AMD64,),
        statement=lambda d: buildkit(d, repository=False, commit=False),
        annotations={**local, "org.opencontainers.image.version": "v0.12.0"},
    )
    policy = rules(
        SL401={"repositories": ["github.com/rancher/fleet"]}, SL402={"refs": ["refs/tags/v0.12.0"]}
    )
    assert source_findings(reference, policy) == []  # SL403 too: the revision annotation records it
    [other] = source_findings(reference, rules(SL401={"repositories": ["github.com/rancher/other"]}))
    assert other.rule_id == "SL401"
    assert "org.opencontainers.image.source of the OCI annotations of the index" in other.message
    # BuildKit's recorded repository outranks the annotation
    built, _ = make_image(tmp_path, pki, platforms=(AMD64,), annotations=local, name="built")
    [found] = source_findings(built, rules(SL401={"repositories": ["github.com/rancher/fleet"]}))
    assert found.actual == "https://github.com/example/app.git"


def test_commit_from_any_evidence(tmp_path: Path, pki: TestPKI) -> None:
    local = lambda d: buildkit(d, repository=False, commit=False)  # noqa: E731
    bare, _ = make_image(tmp_path, pki, platforms=(AMD64,), statement=local, name="bare")
    [found] = source_findings(bare, Policy())
    assert found.rule_id == "SL403" and found.message.startswith("no evidence records a source commit")
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=fleet_claims())
    signed, root = make_image(tmp_path, pki, platforms=(AMD64,), statement=local, sign=leaf, name="signed")
    assert source_findings(signed, Policy(), trusted_root=root) == []


def test_image_without_provenance_is_left_to_sl101(tmp_path: Path, pki: TestPKI) -> None:
    writer = LayoutWriter(tmp_path / "plain")
    image = bk.add_platform_image(writer, AMD64, seed="plain")
    bk.add_index(writer, [image], ref_name="v1")
    writer.write_index()
    report = lint(
        [LintRequest(target=f"oci:{tmp_path / 'plain'}:v1")],
        LintOptions(policy=rules(SL402={"refs": ["refs/tags/v1"]})),
    )
    assert sorted(f.rule_id for f in report.findings) == ["SL101"]


def test_check_names_the_evidence_in_every_format(tmp_path: Path, pki: TestPKI) -> None:
    leaf = pki.leaf(identity=FLEET_IDENTITY, claims=fleet_claims())
    reference, root = make_image(tmp_path, pki, sign=leaf, platforms=(AMD64,))
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrules:\n  SL402: {refs: [refs/heads/main]}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slsalint",
            "check",
            reference,
            "--policy",
            str(policy),
            "--trusted-root",
            str(root),
            "--format",
            "json",
            "--format",
            f"text={tmp_path / 'out.txt'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    [finding] = [
        f for t in json.loads(result.stdout)["targets"] for f in t["findings"] if f["ruleId"] == "SL402"
    ]
    assert finding["actual"] == "refs/tags/v0.12.0" and finding["expected"] == ["refs/heads/main"]
    assert "source-repository-ref of the verified signer certificate" in finding["message"]
    text = " ".join((tmp_path / "out.txt").read_text().split())
    assert "SL402 source-ref-mismatch: source ref 'refs/tags/v0.12.0' from source-repository-ref" in text
