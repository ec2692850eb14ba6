"""Every built-in rule with a passing and a failing input, through the real pipeline
(decode -> schema -> normalize -> bind -> check)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from slsalint.engine import build_target, run_checks
from slsalint.model import EvidenceSource, Finding, Level, OrphanedAttestation, Platform
from slsalint.policy import Policy, RuleSetting, plan_rules
from slsalint.sources.oci import Collected, RawEvidence

AMD64 = "sha256:" + "a" * 64
ARM64 = "sha256:" + "b" * 64
INDEX = "sha256:" + "c" * 64
OTHER = "sha256:" + "d" * 64
COMMIT = "4d329c75e7ec1725f7c9ce917a8799d408d06be3"


def v02(
    subject: str = AMD64, *, mode: str = "max", builder: str | None = "https://ci.example/run/1"
) -> dict[str, Any]:
    predicate: dict[str, Any] = {
        "builder": {"id": builder} if builder is not None else {},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [
            {
                "uri": "pkg:docker/golang@1.21?platform=linux%2Famd64",
                "digest": {"sha256": "4746d26432a9117a5f58e95cb9f954ddf0de128e9d5816886514199316e4a2fb"},
            },
            {"uri": f"https://github.com/example/app.git#{COMMIT}", "digest": {"sha1": COMMIT}},
        ],
        "invocation": {
            "configSource": {
                "uri": f"https://github.com/example/app.git#{COMMIT}",
                "digest": {"sha1": COMMIT},
                "entryPoint": "Dockerfile",
            },
            "parameters": {"frontend": "dockerfile.v0"},
            "environment": {"platform": "linux/amd64"},
        },
        "metadata": {
            "buildStartedOn": "2025-02-25T21:57:06.800879795Z",
            "completeness": {"parameters": mode == "max", "environment": True, "materials": True},
            "reproducible": False,
        },
    }
    if mode == "max":
        predicate["buildConfig"] = {"llbDefinition": [{"id": "step0", "op": {"Op": {"source": {}}}}]}
        predicate["invocation"]["parameters"]["args"] = {"build-arg:VERSION": "1.2.3"}
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/example/app@v1", "digest": {"sha256": subject.split(":")[1]}}],
        "predicate": predicate,
    }


def github_v1(
    subject: str = AMD64, *, ref: str = "refs/heads/main", repo: str = "https://github.com/example/app"
) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"name": "app", "digest": {"sha256": subject.split(":")[1]}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {"ref": ref, "repository": repo, "path": ".github/workflows/release.yml"}
                },
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [{"uri": f"git+{repo}@{ref}", "digest": {"gitCommit": COMMIT}}],
            },
            "runDetails": {
                "builder": {"id": "https://github.com/actions/runner/github-hosted"},
                "metadata": {"invocationId": "https://github.com/example/app/actions/runs/1/attempts/1"},
            },
        },
    }


def sbom(subject: str = AMD64) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"name": "app", "digest": {"sha256": subject.split(":")[1]}}],
        "predicate": {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"},
    }


def evidence(statement: dict[str, Any] | bytes, stored_for: str = AMD64, name: str = "layer") -> RawEvidence:
    data = statement if isinstance(statement, bytes) else json.dumps(statement).encode()
    return RawEvidence(
        source=EvidenceSource("buildkit-attestation-manifest", f"oci:test@{name}"),
        data=data,
        media_type="application/vnd.in-toto+json",
        name=name,
        stored_for=stored_for,
    )


def image(*items: RawEvidence, platforms: int = 1) -> Collected:
    every: list[tuple[str, Platform | None]] = [
        (AMD64, Platform("linux", "amd64")),
        (ARM64, Platform("linux", "arm64")),
    ]
    plats = every[:platforms]
    return Collected(
        reference="oci:test:v1",
        kind="image",
        index_digest=INDEX,
        platforms=plats,
        evidence=list(items),
        is_index=True,
    )


def findings(collected: Collected, rule: str, **options: Any) -> list[Finding]:
    policy = Policy(rules={rule: RuleSetting(options=options)} if options else {})
    planned, _ = plan_rules(policy, packs=["recommended", "docker-scout"])
    target = build_target(collected)
    return [f for f in run_checks(target, planned) if f.rule_id == rule]


def test_sl101_provenance_missing() -> None:
    assert findings(image(evidence(v02())), "SL101") == []
    missing = findings(image(evidence(sbom())), "SL101")
    assert [(f.platform, f.level) for f in missing] == [("linux/amd64", Level.ERROR)]
    assert "no SLSA provenance" in missing[0].message


def test_sl101_index_subject_covers_every_platform() -> None:
    found = findings(image(evidence(v02(INDEX), stored_for=INDEX), platforms=2), "SL101")
    assert found == []


def test_sl102_sbom_missing() -> None:
    assert findings(image(evidence(v02()), evidence(sbom(), name="sbom")), "SL102") == []
    missing = findings(image(evidence(v02())), "SL102")
    assert [f.platform for f in missing] == ["linux/amd64"]


def test_sl103_subject_mismatch() -> None:
    assert findings(image(evidence(v02())), "SL103") == []
    found = findings(image(evidence(v02(OTHER))), "SL103")
    assert len(found) == 1
    assert OTHER in found[0].message and found[0].actual == [OTHER]
    assert found[0].platform == "linux/amd64"  # where the evidence was stored
    assert found[0].pointer == "/subject"


def test_sl103_orphaned_attestation_manifest() -> None:
    orphan = OrphanedAttestation(
        EvidenceSource("buildkit-attestation-manifest", f"oci:test@{OTHER}", OTHER), names=ARM64, position=2
    )
    collected = image(evidence(v02()))
    collected.orphaned.append(orphan)
    [found] = findings(collected, "SL103")
    assert found.message.startswith(f"attestation manifest {OTHER} is listed for {ARM64}")
    assert found.pointer == "/manifests/2/annotations/vnd.docker.reference.digest"
    assert found.actual == ARM64 and found.expected == [AMD64]
    assert found.digest == INDEX and found.platform is None
    assert found.source == f"buildkit-attestation-manifest oci:test@{OTHER}"
    assert "--preserve-digests" in (found.remediation or "")


def test_sl104_schema_invalid_names_the_pointer() -> None:
    assert findings(image(evidence(v02())), "SL104") == []
    bad = v02()
    bad["predicate"]["metadata"]["buildStartedOn"] = "yesterday"
    found = findings(image(evidence(bad)), "SL104")
    assert [f.pointer for f in found] == ["/predicate/metadata/buildStartedOn"]
    assert "date-time" in found[0].message


def test_sl105_envelope_invalid() -> None:
    assert findings(image(evidence(v02())), "SL105") == []
    found = findings(image(evidence(b"{not json")), "SL105")
    assert len(found) == 1 and "not valid JSON" in found[0].message
    assert found[0].platform == "linux/amd64"


def test_sl106_platform_attestation_missing() -> None:
    both = image(evidence(v02()), evidence(v02(ARM64), stored_for=ARM64), platforms=2)
    assert findings(both, "SL106") == []
    found = findings(image(evidence(v02()), platforms=2), "SL106")
    assert [f.platform for f in found] == ["linux/arm64"]
    assert found[0].level is Level.WARNING


def test_sl301_builder_untrusted() -> None:
    allowed = ["https://ci.example/run/*"]
    assert findings(image(evidence(v02())), "SL301", **{"allowed-builders": allowed}) == []
    bad = v02(builder="https://evil.example/run/1")
    found = findings(image(evidence(bad)), "SL301", **{"allowed-builders": allowed})
    assert len(found) == 1 and found[0].actual == "https://evil.example/run/1"
    assert found[0].pointer == "/predicate/builder/id"
    # inactive without the option
    assert findings(image(evidence(bad)), "SL301") == []


def test_sl302_mode_min() -> None:
    assert findings(image(evidence(v02(mode="max"))), "SL302") == []
    found = findings(image(evidence(v02(mode="min"))), "SL302")
    assert len(found) == 1 and found[0].actual == "mode=min"
    assert "--provenance=mode=max" in (found[0].remediation or "")


def test_sl302_ignores_non_buildkit_provenance() -> None:
    assert findings(image(evidence(github_v1())), "SL302") == []


def test_sl303_builder_id_empty() -> None:
    assert findings(image(evidence(v02())), "SL303") == []
    assert len(findings(image(evidence(v02(builder=""))), "SL303")) == 1


def test_sl401_source_repository_mismatch() -> None:
    expected = {"repositories": ["github.com/example/app"]}
    assert findings(image(evidence(v02())), "SL401", **expected) == []
    assert findings(image(evidence(github_v1())), "SL401", **expected) == []
    fork = github_v1(repo="https://github.com/attacker/app")
    found = findings(image(evidence(fork)), "SL401", **expected)
    assert len(found) == 1 and found[0].actual == "https://github.com/attacker/app"


def test_sl402_source_ref_mismatch() -> None:
    refs = {"refs": ["refs/heads/main", "refs/tags/v*"]}
    assert findings(image(evidence(github_v1())), "SL402", **refs) == []
    assert findings(image(evidence(github_v1(ref="refs/tags/v1.2.0"))), "SL402", **refs) == []
    found = findings(image(evidence(github_v1(ref="refs/heads/feature"))), "SL402", **refs)
    assert len(found) == 1 and found[0].actual == "refs/heads/feature"


def test_sl403_source_commit_missing() -> None:
    assert findings(image(evidence(v02())), "SL403") == []
    local = v02()
    del local["predicate"]["invocation"]["configSource"]
    local["predicate"]["materials"] = local["predicate"]["materials"][:1]
    found = findings(image(evidence(local)), "SL403")
    assert len(found) == 1 and found[0].level is Level.WARNING


def test_sl404_material_unpinned() -> None:
    assert findings(image(evidence(v02())), "SL404") == []
    loose = v02()
    loose["predicate"]["materials"].append({"uri": "https://example.com/tool.tar.gz"})
    found = findings(image(evidence(loose)), "SL404")
    assert [f.pointer for f in found] == ["/predicate/materials/2"]
    assert findings(image(evidence(loose)), "SL404", ignore=["https://example.com/*"]) == []


def test_sl501_secret_in_build_args() -> None:
    assert findings(image(evidence(v02())), "SL501") == []
    leaky = v02()
    token = "ghp_" + "x" * 36
    leaky["predicate"]["invocation"]["parameters"]["args"]["build-arg:GITHUB_TOKEN"] = token
    found = findings(image(evidence(leaky)), "SL501")
    assert len(found) == 1
    assert token not in found[0].message and token not in str(found[0].actual)
    assert found[0].pointer == "/predicate/invocation/parameters/args/build-arg:GITHUB_TOKEN"
    by_value = v02()
    by_value["predicate"]["invocation"]["parameters"]["args"]["build-arg:EXTRA"] = "AKIA" + "A" * 16
    assert len(findings(image(evidence(by_value)), "SL501")) == 1
    assert findings(image(evidence(leaky)), "SL501", allow=["GITHUB_TOKEN"]) == []
    shortest = v02()  # the shortest value SECRET_VALUE matches: still searched
    shortest["predicate"]["invocation"]["parameters"]["args"]["build-arg:EXTRA"] = "xoxb-" + "1" * 10
    assert len(findings(image(evidence(shortest)), "SL501")) == 1


def test_sl501_skips_only_values_too_short_to_match() -> None:
    # Values shorter than SHORTEST_SECRET_VALUE are not searched: no such value can match.
    import re

    from slsalint.checks.secrets import SECRET_VALUE, SHORTEST_SECRET_VALUE

    assert re._parser.parse(SECRET_VALUE.pattern).getwidth()[0] == SHORTEST_SECRET_VALUE  # type: ignore[attr-defined]


def test_a_raising_rule_becomes_sl904(monkeypatch: pytest.MonkeyPatch) -> None:
    from slsalint.checks.builder import ProvenanceModeMin

    def boom(self: object, ctx: object) -> list[Finding]:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(ProvenanceModeMin, "run", boom)
    planned, _ = plan_rules(Policy())
    found = [f for f in run_checks(build_target(image(evidence(v02()))), planned) if f.rule_id == "SL904"]
    assert len(found) == 1 and "SL302" in found[0].message and found[0].level is Level.ERROR


def test_unchanged_input_is_not_mutated() -> None:
    statement = v02()
    before = copy.deepcopy(statement)
    findings(image(evidence(statement)), "SL302")
    assert statement == before
