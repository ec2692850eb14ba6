"""``--github-attestations`` end to end: images pushed to the real local registry, their
attestations served by the fake GitHub API, checked, fetched and explained as a user would."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.github.conftest import check_json, clean_env, findings, rule_ids, run
from tests.github.fake import PREFIX, Fault, Running
from tests.github.snappy_encode import compress
from tests.support.images import AMD64, ARM64, build
from tests.support.pki import DEFAULT_IDENTITY, DEFAULT_ISSUER, TestPKI
from tests.support.registry import Registry

REPO = "repos/acme/app"
KEYLESS = ["--certificate-identity", DEFAULT_IDENTITY, "--certificate-oidc-issuer", DEFAULT_ISSUER]
SBOM = "https://spdx.dev/Document/v2.3"


def github_statement(
    digest: str, *, predicate_type: str = "https://slsa.dev/provenance/v1"
) -> dict[str, Any]:
    """What actions/attest-build-provenance signs: SLSA v1, GitHub workflow build type."""
    if predicate_type == SBOM:
        predicate: dict[str, Any] = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app"}
    else:
        predicate = {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/tags/v1.2.3",
                        "repository": "https://github.com/acme/app",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {"github": {"event_name": "push", "repository_id": "1"}},
                "resolvedDependencies": [
                    {
                        "uri": "git+https://github.com/acme/app@refs/tags/v1.2.3",
                        "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
                    }
                ],
            },
            "runDetails": {
                "builder": {"id": "https://github.com/actions/runner/github-hosted"},
                "metadata": {"invocationId": "https://github.com/acme/app/actions/runs/1/attempts/1"},
            },
        }
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "registry/app", "digest": {"sha256": digest.split(":", 1)[1]}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def bundle(pki: TestPKI, digest: str, *, identity: str = DEFAULT_IDENTITY, **kw: Any) -> dict[str, Any]:
    payload = json.dumps(github_statement(digest, **kw)).encode()
    return pki.intoto_bundle(payload, pki.leaf(identity=identity))


def entry(document: dict[str, Any] | None, bundle_url: str | None = None) -> dict[str, Any]:
    return {"bundle": document, "repository_id": 123, "bundle_url": bundle_url}


def image(registry: Registry, tmp_path: Path, name: str, **kw: Any) -> tuple[str, str, dict[str, str]]:
    """Push an image with no attestations of its own; (reference, index digest, platform digests)."""
    attest = kw.pop("attest", {AMD64: None})
    layout, index, platforms = build(tmp_path, attest=attest, name=name, **kw)
    registry.push_layout(layout, f"gh/{name}")
    return (
        registry.ref(f"gh/{name}", "v1.0.0"),
        index["digest"],
        {str(p): d["digest"] for p, d in platforms.items()},
    )


def github(api: Running, *owners: str) -> list[str]:
    out = ["--github-api-url", api.api_url]
    for owner in owners or ("acme/app",):
        out += ["--github-attestations", owner]
    return out


# -- check ------------------------------------------------------------------------------------------


def test_inline_bundles_are_provenance_of_the_index(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "inline", attest={AMD64: None, ARM64: None})
    api.state.add(REPO, index, entry(bundle(pki, index)))
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root), *KEYLESS)
    assert code == 0, report
    assert rule_ids(report) == []
    for platform in report["targets"][0]["platforms"]:
        (att,) = platform["attestations"]
        assert att["source"]["kind"] == "github-attestations"
        assert att["source"]["location"] == f"{api.host}{PREFIX}/{REPO}/attestations/{index}"
        assert att["verification"]["verified"] is True
        assert att["verification"]["signer"] == DEFAULT_IDENTITY
    listing = api.state.requests("/attestations/")
    assert {p.split("?")[0] for p, _ in listing} == {f"{PREFIX}/{REPO}/attestations/{d}" for d in [index]} | {
        f"{PREFIX}/{REPO}/attestations/{d}" for d in [p["digest"] for p in report["targets"][0]["platforms"]]
    }
    for path, headers in listing:
        assert "per_page=100" in path
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert "authorization" not in headers  # no token in the environment: anonymous


def test_platform_digest_attestations_and_sl103(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, _, platforms = image(registry, tmp_path, "perplatform", attest={AMD64: None, ARM64: None})
    amd, arm = platforms["linux/amd64"], platforms["linux/arm64"]
    api.state.add(REPO, amd, entry(bundle(pki, amd)))
    # Listed for arm64 but naming another digest: the attestation does not apply (SL103, SL101).
    api.state.add(REPO, arm, entry(bundle(pki, "sha256:" + "7" * 64)))
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root))
    assert code == 1
    ids = rule_ids(report)
    assert ("SL101", "linux/arm64") in ids and ("SL101", "linux/amd64") not in ids
    assert any(rule == "SL103" for rule, _ in ids)


def test_no_attestations_is_sl101_with_and_without_the_flag(
    registry: Registry, tmp_path: Path, api: Running
) -> None:
    ref, _, _ = image(registry, tmp_path, "none")
    code, report = check_json(ref, *github(api))
    assert code == 1
    (sl101,) = [f for f in findings(report) if f["ruleId"] == "SL101"]
    assert "--github-attestations" not in sl101["remediation"]
    assert api.state.requests("/attestations/"), "the API was not asked"
    code, report = check_json(ref)
    assert code == 1
    (sl101,) = [f for f in findings(report) if f["ruleId"] == "SL101"]
    assert "actions/attest-build-provenance" in sl101["remediation"]
    assert "--github-attestations OWNER/REPO" in sl101["remediation"]


def test_owner_falls_back_from_orgs_to_users(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "user")
    api.state.add("users/someone", index, entry(bundle(pki, index)))
    code, report = check_json(ref, *github(api, "someone"), "--trusted-root", str(trusted_root))
    assert code == 0, report
    paths = [p.split("?")[0] for p, _ in api.state.requests("/attestations/")]
    assert f"{PREFIX}/orgs/someone/attestations/{index}" in paths
    assert f"{PREFIX}/users/someone/attestations/{index}" in paths


def test_snappy_bundle_url_on_another_host_gets_no_token(
    registry: Registry,
    tmp_path: Path,
    api: Running,
    storage: Running,
    pki: TestPKI,
    trusted_root: Path,
) -> None:
    ref, index, _ = image(registry, tmp_path, "snappy")
    data = json.dumps(bundle(pki, index)).encode()
    storage.state.files["/bundles/1"] = compress(data)
    api.state.add(REPO, index, entry(None, storage.url("/bundles/1")))
    api.state.token = "s3cret-token"
    env = clean_env(GITHUB_TOKEN="s3cret-token")
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root), *KEYLESS, env=env)
    assert code == 0, report
    (att,) = report["targets"][0]["platforms"][0]["attestations"]
    assert att["source"]["kind"] == "github-attestations" and att["verification"]["verified"]
    for _, headers in api.state.requests("/attestations/"):
        assert headers["authorization"] == "Bearer s3cret-token"
    ((_, headers),) = storage.state.requests("/bundles/1")
    assert "authorization" not in headers
    assert "s3cret-token" not in json.dumps(report)


def test_gh_token_is_used_when_github_token_is_absent(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "ghtoken")
    api.state.add(REPO, index, entry(bundle(pki, index)))
    api.state.token = "gh-cli-token"
    code, _ = check_json(
        ref, *github(api), "--trusted-root", str(trusted_root), env=clean_env(GH_TOKEN="gh-cli-token")
    )
    assert code == 0


def test_pagination_over_two_pages(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "pages")
    api.state.page_size = 1
    api.state.add(REPO, index, entry(bundle(pki, index)), entry(bundle(pki, index, predicate_type=SBOM)))
    code, report = check_json(
        ref, *github(api), "--trusted-root", str(trusted_root), "--pack", "docker-scout", "--disable", "SL302"
    )
    assert code == 0, report
    kinds = sorted(a["predicateType"] for a in report["targets"][0]["platforms"][0]["attestations"])
    assert kinds == ["https://slsa.dev/provenance/v1", SBOM]
    assert len([p for p, _ in api.state.requests(f"{REPO}/attestations/{index}")]) == 2


def test_unauthorized_is_exit_3_with_one_line(registry: Registry, tmp_path: Path, api: Running) -> None:
    ref, _, _ = image(registry, tmp_path, "denied")
    api.state.token = "needed"
    result = run("check", ref, *github(api), "--no-cache", env=clean_env(GITHUB_TOKEN="wrong-token"))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HTTP 401" in lines[0] and "access refused" in lines[0]
    assert "wrong-token" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        (Fault(429, {"Retry-After": "0"}, times=2), 0),
        (Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}, times=1), 0),
        (Fault(503, times=1), 0),
        (Fault(429, {"Retry-After": "0"}), 3),
        (Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)}), 3),
        (Fault(500), 3),
        (Fault(403), 3),
    ],
)
def test_faults_never_pass(
    registry: Registry,
    tmp_path: Path,
    api: Running,
    pki: TestPKI,
    trusted_root: Path,
    fault: Fault,
    expect: int,
) -> None:
    ref, index, _ = image(registry, tmp_path, "faults")
    api.state.add(REPO, index, entry(bundle(pki, index)))
    api.state.faults.append(fault)
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root))
    assert code == expect, report
    if expect == 3:
        assert "GitHub attestations" in report["stderr"]


def test_malformed_listing_is_exit_3(registry: Registry, tmp_path: Path, api: Running) -> None:
    ref, _, _ = image(registry, tmp_path, "badjson")
    api.state.raw_listing = b'{"attestations": [ {"bundle": '
    code, report = check_json(ref, *github(api))
    assert code == 3
    assert "malformed JSON" in report["stderr"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x05\x00ab", "snappy"),  # a literal that runs past the end
        (compress(b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", '), "not valid JSON"),
    ],
)
def test_malformed_bundle_url_body_is_sl105(
    registry: Registry, tmp_path: Path, api: Running, storage: Running, body: bytes, message: str
) -> None:
    ref, index, _ = image(registry, tmp_path, "badbody")
    storage.state.files["/b"] = body
    api.state.add(REPO, index, entry(None, storage.url("/b")))
    code, report = check_json(ref, *github(api))
    assert code == 1
    sl105 = [f for f in findings(report) if f["ruleId"] == "SL105"]
    assert sl105 and message in sl105[0]["message"]
    assert sl105[0]["source"].startswith("github-attestations ")


def test_malformed_inline_bundle_is_sl105(registry: Registry, tmp_path: Path, api: Running) -> None:
    ref, index, _ = image(registry, tmp_path, "badinline")
    api.state.add(REPO, index, entry({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}))
    api.state.add(REPO, index, {"bundle": None, "repository_id": 1})
    code, report = check_json(ref, *github(api))
    assert code == 1
    messages = [f["message"] for f in findings(report) if f["ruleId"] == "SL105"]
    assert any("verificationMaterial" in m for m in messages)
    assert any("neither a bundle nor a bundle_url" in m for m in messages)


# -- signatures -------------------------------------------------------------------------------------


def test_signer_identity_mismatch_is_sl203(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "wrongsigner")
    other = "https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main"
    api.state.add(REPO, index, entry(bundle(pki, index, identity=other)))
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root), *KEYLESS)
    assert code == 1
    assert "SL203" in {r for r, _ in rule_ids(report)}


def test_tampered_bundle_is_sl202_and_unknown_ca_fails(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "tampered")
    document = bundle(pki, index)
    statement = github_statement(index)
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://evil.example/builder"
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    api.state.add(REPO, index, entry(document))
    code, report = check_json(ref, *github(api), "--trusted-root", str(trusted_root), *KEYLESS)
    assert code == 1
    assert "SL202" in {r for r, _ in rule_ids(report)}
    # A genuine bundle from the test CA does not verify against the public-good root.
    api.state.attestations.clear()
    api.state.add(REPO, index, entry(bundle(pki, index)))
    code, report = check_json(ref, *github(api), *KEYLESS)
    assert code == 1
    assert {r for r, _ in rule_ids(report)} & {"SL201", "SL202"}


# -- usage ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "explain"])
def test_offline_with_the_flag_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = run(command, "oci:" + str(tmp_path), "--offline", "--github-attestations", "acme/app")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--offline" in lines[0] and "--github-attestations" in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--github-attestations", "a/b/c", "--subject", "sha256:" + "a" * 64], "OWNER or OWNER/REPO"),
        (["--github-attestations", "-bad", "--subject", "sha256:" + "a" * 64], "OWNER or OWNER/REPO"),
        (
            [
                "--github-attestations",
                "acme",
                "--github-api-url",
                "http://example.com",
                "--subject",
                "sha256:" + "a" * 64,
            ],
            "loopback",
        ),
        (["--github-attestations", "acme"], "nothing to check"),
        (["--subject", "sha256:" + "a" * 64], "with --github-attestations"),
    ],
)
def test_bad_flags_are_exit_2(args: list[str], message: str) -> None:
    result = run("check", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


# -- artifacts (--subject / --artifact) -------------------------------------------------------------


def test_subject_without_files(api: Running, pki: TestPKI, trusted_root: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(b"release tarball")
    import hashlib

    digest = "sha256:" + hashlib.sha256(artifact.read_bytes()).hexdigest()
    api.state.add(REPO, digest, entry(bundle(pki, digest)))
    code, report = check_json(
        "--subject", digest, *github(api), "--trusted-root", str(trusted_root), *KEYLESS
    )
    assert code == 0, report
    code, report = check_json("--artifact", str(artifact), *github(api), "--trusted-root", str(trusted_root))
    assert code == 0, report
    code, report = check_json("--subject", "sha256:" + "1" * 64, *github(api))
    assert code == 1 and [r for r, _ in rule_ids(report)] == ["SL101"]


# -- fetch and offline re-check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "identity", [DEFAULT_IDENTITY, "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/x"]
)
def test_fetch_then_offline_check_gives_the_same_findings(
    registry: Registry,
    tmp_path: Path,
    api: Running,
    storage: Running,
    pki: TestPKI,
    trusted_root: Path,
    identity: str,
) -> None:
    ref, index, platforms = image(registry, tmp_path, "snap", attest={AMD64: [], ARM64: None})
    arm = platforms["linux/arm64"]
    api.state.add(REPO, index, entry(bundle(pki, index, identity=identity)))
    storage.state.files["/arm"] = compress(json.dumps(bundle(pki, arm, predicate_type=SBOM)).encode())
    api.state.add(REPO, arm, entry(None, storage.url("/arm")))
    flags = ["--trusted-root", str(trusted_root), *KEYLESS, "--enable", "SL102"]
    online_code, online = check_json(ref, *github(api), *flags)
    out = tmp_path / "snapshot"
    fetched = run("fetch", ref, "-o", str(out), "--no-cache", *github(api))
    assert fetched.returncode == 0, fetched.stderr
    requests_before = len(api.state.log)
    offline_code, offline = check_json(f"oci:{out}", "--offline", *flags)
    assert len(api.state.log) == requests_before

    def key(report: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (f["ruleId"], f["platform"], f["message"], f["source"], f["level"]) for f in findings(report)
        )

    assert key(online) == key(offline)
    assert online_code == offline_code
    # amd64 has BuildKit provenance but no SBOM (SL102); arm64 gets both from GitHub.
    expected = [("SL102", "linux/amd64")] + ([] if identity == DEFAULT_IDENTITY else [("SL203", None)])
    assert sorted(set(rule_ids(online))) == sorted(expected), rule_ids(online)
    assert online_code == (0 if identity == DEFAULT_IDENTITY else 1)
    sources = {
        a["source"]["kind"] for t in offline["targets"] for p in t["platforms"] for a in p["attestations"]
    }
    assert "github-attestations" in sources
    # The bundles are referrer artifacts of the digests they attest.
    index_json = json.loads((out / "index.json").read_text())
    stored = [
        e
        for e in index_json["manifests"]
        if e.get("artifactType", "").startswith("application/vnd.dev.sigstore")
    ]
    assert len(stored) == 2
    subjects = set()
    for item in stored:
        manifest = json.loads((out / "blobs" / "sha256" / item["digest"].split(":")[1]).read_bytes())
        assert len(manifest["layers"]) == 1
        assert manifest["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
        subjects.add(manifest["subject"]["digest"])
    assert subjects == {index, arm}


def test_fetch_fails_when_a_bundle_is_unreadable(
    registry: Registry, tmp_path: Path, api: Running, storage: Running
) -> None:
    ref, index, _ = image(registry, tmp_path, "snapbad")
    storage.state.files["/x"] = b"\xff\xff\xff\xff\xff\xff"
    api.state.add(REPO, index, entry(None, storage.url("/x")))
    result = run("fetch", ref, "-o", str(tmp_path / "out"), "--no-cache", *github(api))
    assert result.returncode == 3
    assert "snappy" in result.stderr


# -- explain ------------------------------------------------------------------------------------------


def test_explain_shows_github_attestations(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    ref, index, _ = image(registry, tmp_path, "explain")
    result = run("explain", ref, "--no-cache", "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    (d02,) = [d for d in document["diagnoses"] if d["id"] == "D02"]
    assert "--github-attestations" in d02["fix"]

    api.state.add(REPO, index, entry(bundle(pki, index)), entry(bundle(pki, index, predicate_type=SBOM)))
    args = ["explain", ref, "--no-cache", *github(api), "--trusted-root", str(trusted_root)]
    result = run(*args, "--format", "json")
    document = json.loads(result.stdout)
    assert not [d for d in document["diagnoses"] if d["severity"] == "problem"], document["diagnoses"]
    assert result.returncode == 0
    nodes = document["tree"]["indexEvidence"]
    assert [n["kind"] for n in nodes] == ["github-attestations"] * 2
    (node,) = [n for n in nodes if n["layers"][0]["predicateType"] == "https://slsa.dev/provenance/v1"]
    (statement,) = node["layers"][0]["statements"]
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["signature"] == {
        "verified": True,
        "signer": statement["signature"]["signer"],
        "problem": None,
    }
    assert DEFAULT_IDENTITY in statement["signature"]["signer"]
    text = run(*args).stdout
    assert "github-attestations" in text and "signed by" in text and DEFAULT_IDENTITY in text
    # Without --trusted-root the production root cannot verify the test CA's signature.
    document = json.loads(run("explain", ref, "--no-cache", *github(api), "--format", "json").stdout)
    for node in document["tree"]["indexEvidence"]:
        assert node["layers"][0]["statements"][0]["signature"]["verified"] is False
