"""End to end against the real CNCF distribution registry (and a proxy where it falls short).

Every scenario that gives a report is also replayed: ``slsalint fetch`` snapshots the image, and
``check oci:SNAPSHOT --offline`` with the same options must give the same findings (rule, level,
platform, digest, image, source, message, pointer, expected and actual values) and exit code. A
fetch refuses to write a snapshot when a source failed; the online report then shows SL105.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint, open_client
from slsalint.errors import ConfigError, OperationalError
from slsalint.model import Platform, Report
from slsalint.policy import load_policy
from slsalint.sources.cache import BlobCache
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.limits import Limits
from slsalint.sources.oci import OCI_INDEX, SNAPSHOT_REFERENCE_ANNOTATION
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import RegistryClient
from slsalint.sources.snapshot import fetch
from tests.exceptions.conftest import POLICY, days, write_image
from tests.support import buildkit as bk
from tests.support.images import AMD64, ARM64, add_cosign_signature, build
from tests.support.proxy import Fault, proxy
from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def check(
    ref: str,
    cache: Path | None = None,
    *,
    settings: RegistrySettings | None = None,
    replay: bool = True,
    **kw: Any,
) -> Report:
    """Check ``ref`` online, then (unless ``replay=False``) fetch and re-check the snapshot offline
    with the same options and assert the same findings and exit code."""
    settings = settings or RegistrySettings(use_cache=cache is not None, cache_dir=cache)
    platforms = kw.pop("platforms", [])
    options = LintOptions(registry=settings, **kw)
    online = lint([LintRequest(target=ref, platforms=platforms)], options)
    if replay:
        assert_replays(ref, online, settings, platforms, kw)
    return online


def findings(report: Report) -> list[tuple[Any, ...]]:
    """Everything a report says about each finding (sorted)."""
    return sorted(
        (
            f.rule_id,
            f.level.value,
            f.platform,
            f.digest,
            f.image,
            f.source,
            f.message,
            f.pointer,
            json.dumps(f.expected, sort_keys=True),
            json.dumps(f.actual, sort_keys=True),
            f.waived,
        )
        for f in report.findings
    )


def assert_replays(
    ref: str, online: Report, settings: RegistrySettings, platforms: list[Platform], kw: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "snapshot"
        fetching = RegistrySettings(
            use_cache=False,
            insecure=settings.insecure,
            attestation_repository=settings.attestation_repository,
            limits=settings.limits,
        )
        with open_client(fetching) as client:
            try:
                fetch(
                    client,
                    ref,
                    out,
                    platforms=platforms or None,
                    attestation_repository=settings.attestation_repository,
                )
            except OperationalError as exc:
                # A snapshot is never written with a source missing; online, that source is SL105.
                assert "cannot snapshot" in str(exc), exc
                assert any(f.rule_id == "SL105" for f in online.findings), exc
                return
        offline = lint(
            [LintRequest(target=f"oci:{out}", platforms=platforms)],
            LintOptions(registry=RegistrySettings(offline=True), **kw),
        )
    assert [r.target.reference for r in offline.results] == [r.target.reference for r in online.results]
    assert findings(offline) == findings(online)
    assert offline.exit_code == online.exit_code


def ids(report: Report) -> list[tuple[str, str | None]]:
    return sorted((f.rule_id, f.platform) for f in report.findings)


def test_attested_multi_platform_image_passes(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: [], ARM64: []})
    registry.push_layout(layout, "app/ok")
    report = check(registry.ref("app/ok", "v1.0.0"))
    assert ids(report) == []
    assert report.exit_code == 0
    target = report.results[0].target
    assert target.index_digest == index["digest"]
    assert sorted(str(p.platform) for p in target.platforms) == ["linux/amd64", "linux/arm64"]
    assert all(p.attestations for p in target.platforms)


def test_artifact_form_attestation_manifests(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: [], ARM64: []}, form="artifact")
    registry.push_layout(layout, "app/artifact")
    report = check(registry.ref("app/artifact", "v1.0.0"))
    assert ids(report) == []


def test_one_platform_unattested(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: [], ARM64: None})
    registry.push_layout(layout, "app/partial")
    report = check(registry.ref("app/partial", "v1.0.0"))
    assert ids(report) == [("SL101", "linux/arm64"), ("SL106", "linux/arm64")]
    assert report.exit_code == 1


def test_manifest_create_style_list_without_attestations(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: None, ARM64: None})
    registry.push_layout(layout, "app/plain")
    report = check(registry.ref("app/plain", "v1.0.0"))
    assert ids(report) == [("SL101", "linux/amd64"), ("SL101", "linux/arm64")]


def test_mode_min(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(
        tmp_path, attest={AMD64: []}, statement=lambda d: bk.buildkit_v02_statement(d, mode="min")
    )
    registry.push_layout(layout, "app/min")
    report = check(registry.ref("app/min", "v1.0.0"))
    assert ("SL302", "linux/amd64") in ids(report)
    assert report.exit_code == 1


def test_subject_names_another_digest(registry: Registry, tmp_path: Path) -> None:
    other = "sha256:" + "e" * 64
    layout, _, _ = build(tmp_path, attest={AMD64: []}, statement=lambda d: bk.buildkit_v02_statement(other))
    registry.push_layout(layout, "app/mismatch")
    report = check(registry.ref("app/mismatch", "v1.0.0"))
    assert ("SL103", "linux/amd64") in ids(report) and ("SL101", "linux/amd64") in ids(report)


def test_broken_in_toto_layer(registry: Registry, tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "broken")
    image = bk.add_platform_image(writer, AMD64, seed="broken")
    layer = writer.descriptor(
        b'{"_type": "https://in-toto.io/Statement/v0.1", "subject": [',
        "application/vnd.in-toto+json",
        annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
    )
    config = writer.descriptor(
        b'{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}',
        "application/vnd.oci.image.config.v1+json",
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }
    att = writer.descriptor(
        writer.json_bytes(manifest),
        "application/vnd.oci.image.manifest.v1+json",
        annotations={
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": image["digest"],
        },
        platform=Platform("unknown", "unknown"),
    )
    bk.add_index(writer, [image, att], ref_name="v1.0.0")
    writer.write_index()
    registry.push_layout(tmp_path / "broken", "app/broken")
    report = check(registry.ref("app/broken", "v1.0.0"))
    found = [f for f in report.findings if f.rule_id == "SL105"]
    assert found and "not valid JSON" in found[0].message and found[0].platform == "linux/amd64"
    assert report.exit_code == 1


def test_cosign_att_tag_for_index(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: None, ARM64: None}, att_for_index=True)
    registry.push_layout(layout, "app/cosign")
    report = check(registry.ref("app/cosign", "v1.0.0"))
    assert ids(report) == []
    platforms = report.results[0].target.platforms
    assert all(
        any(a.source.kind == "cosign-att" and a.applies_to_index for a in p.attestations) for p in platforms
    )


def test_attestation_repository(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: None})
    registry.push_layout(layout, "app/signed-elsewhere")
    side = build(tmp_path, attest={AMD64: None}, att_for_index=False, name="side")[0]
    del side
    writer = LayoutWriter(tmp_path / "atts")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    writer.write_index()
    registry.push_layout(tmp_path / "atts", "sigs/store")
    missing = check(registry.ref("app/signed-elsewhere", "v1.0.0"))
    assert ("SL101", "linux/amd64") in ids(missing)
    settings = RegistrySettings(use_cache=False, attestation_repository=f"{registry.host}/sigs/store")
    found = check(registry.ref("app/signed-elsewhere", "v1.0.0"), settings=settings)
    assert ids(found) == []


def test_referrers_fallback_tag(registry: Registry, tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "fallback")
    image = bk.add_platform_image(writer, AMD64, seed="fallback")
    statement = bk.buildkit_v02_statement(image["digest"])
    referrer = bk.add_attestation_manifest(writer, image, [statement], form="artifact")
    fallback_index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{k: v for k, v in referrer.items() if k in ("mediaType", "digest", "size")}],
    }
    fb = writer.descriptor(writer.json_bytes(fallback_index), "application/vnd.oci.image.index.v1+json")
    writer.add_entry(image, ref_name="v1.0.0")
    writer.add_entry(fb, ref_name=image["digest"].replace(":", "-"))
    writer.write_index()
    registry.push_layout(tmp_path / "fallback", "app/fallback")
    report = check(registry.ref("app/fallback", "v1.0.0"))
    assert ids(report) == []
    [platform] = report.results[0].target.platforms
    assert [a.source.kind for a in platform.attestations] == ["buildkit-attestation-manifest"]


def test_referrers_api_and_token_auth_through_proxy(registry: Registry, tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "refs")
    image = bk.add_platform_image(writer, AMD64, seed="refs")
    bk.add_attestation_manifest(writer, image, [bk.buildkit_v02_statement(image["digest"])], form="artifact")
    writer.add_entry(image, ref_name="v1.0.0")
    writer.write_index()
    registry.push_layout(tmp_path / "refs", "app/refs")
    # the pusher tags only index.json entries; the referrer is reachable by digest only, so tag it
    # for the proxy's subject index.
    for blob in (tmp_path / "refs/blobs/sha256").iterdir():
        document = json.loads(blob.read_bytes()) if blob.read_bytes().startswith(b"{") else {}
        if isinstance(document, dict) and isinstance(document.get("subject"), dict):
            registry.push_manifest("app/refs", blob.read_bytes(), document["mediaType"], "referrer")
    with proxy(registry.base, token="t0ken", referrers_api=True, page_size=1) as (host, state):
        report = check(f"{host}/app/refs:v1.0.0")
        assert ids(report) == []
        assert state.token_requests and state.token_requests[0]["scope"] == ["repository:app/refs:pull"]
        assert any("/referrers/" in p for p in state.requests())
        # (the sha256-HEX fallback tag is asked at the same time, to save a round trip where the
        # API is missing; with the API present its answer is what counts)


def test_credentials_from_docker_config(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/private")
    with proxy(registry.base, token="secret-token", users={"alice": "pw"}) as (host, _state):
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.delenv("DOCKER_CONFIG", raising=False)
        monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
        with pytest.raises(OperationalError, match="token service refused access anonymously"):
            check(f"{host}/app/private:v1.0.0")
        config = tmp_path / ".docker" / "config.json"
        config.parent.mkdir()
        import base64

        config.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(b"alice:pw").decode()}}}))
        assert check(f"{host}/app/private:v1.0.0").exit_code == 0
        # the token is never written into the report
        assert "secret-token" not in json.dumps(
            [f.message for f in check(f"{host}/app/private:v1.0.0").findings]
        )


def test_warm_recheck_of_digest_costs_no_blob_requests(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: [], ARM64: []})
    registry.push_layout(layout, "app/cached")
    cache = tmp_path / "cache"
    with proxy(registry.base) as (host, state):
        ref = f"{host}/app/cached@{index['digest']}"
        first = check(ref, cache=cache)
        assert state.requests("/blobs/")
        before = len(state.requests("/blobs/"))
        manifests_before = len(state.requests("/manifests/sha256:"))
        second = check(ref, cache=cache, replay=False)  # (a replay fetches with no cache)
        assert len(state.requests("/blobs/")) == before
        assert len(state.requests("/manifests/sha256:")) == manifests_before
        assert ids(first) == ids(second)


def test_fetch_then_offline_check_gives_the_same_findings(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(
        tmp_path,
        attest={AMD64: [], ARM64: None},
        att_for_index=True,
        statement=lambda d: bk.buildkit_v02_statement(d, mode="min"),
    )
    registry.push_layout(layout, "app/snap")
    ref = registry.ref("app/snap", "v1.0.0")
    online = check(ref)
    out = tmp_path / "snapshot"
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "fetch", ref, "-o", str(out), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    pinned = f"{ref}@{index['digest']}"
    assert f"wrote {pinned} to oci:{out}" in result.stdout
    entries = json.loads((out / "index.json").read_bytes())["manifests"]
    assert [
        e["annotations"].get(SNAPSHOT_REFERENCE_ANNOTATION) for e in entries if e["digest"] == index["digest"]
    ] == [pinned]
    offline = lint([LintRequest(target=f"oci:{out}")], LintOptions(registry=RegistrySettings(offline=True)))
    assert findings(online) == findings(offline)
    assert {f.image for f in offline.findings} == {pinned}
    assert online.exit_code == offline.exit_code == 1


def test_offline_snapshot_keeps_components_and_exceptions(registry: Registry, tmp_path: Path) -> None:
    """The online check waives a finding for the component the registry name belongs to; so must
    the offline check of the snapshot (it used to be judged as a bare directory)."""
    write_image(tmp_path / "layouts", "fleet-agent")
    registry.push_layout(tmp_path / "layouts" / "fleet-agent", "rancher/fleet-agent")
    work = tmp_path / "release"
    work.mkdir()
    (work / "slsalint.yaml").write_text(POLICY)
    (work / "slsalint-exceptions.yaml").write_text(
        "version: 1\nexceptions:\n  - rule: SL302\n    component: fleet-agent\n"
        "    platforms: [linux/arm64]\n    reason: arm64 still built by the legacy pipeline\n"
        f"    owner: release-team@example.com\n    expires: {days(30)}\n"
    )
    policy = load_policy(work / "slsalint.yaml")
    report = check(registry.ref("rancher/fleet-agent", "v0.12.0"), policy=policy)
    assert [(f.rule_id, f.waived) for f in report.findings] == [("SL302", True)]
    assert report.exit_code == 0
    # The same snapshot moved elsewhere and named by hand judges the same way.
    out = tmp_path / "copy"
    with open_client(RegistrySettings(use_cache=False)) as client:
        fetch(client, registry.ref("rancher/fleet-agent", "v0.12.0"), out)
    index_json = json.loads((out / "index.json").read_bytes())
    for entry in index_json["manifests"]:
        entry.get("annotations", {}).pop(SNAPSHOT_REFERENCE_ANNOTATION, None)
    (out / "index.json").write_text(json.dumps(index_json))
    bare = lint([LintRequest(target=f"oci:{out}")], LintOptions(policy=policy))
    assert bare.exit_code == 1  # no longer the component: the exception does not apply
    named = lint(
        [LintRequest(target=f"oci:{out}", image_name="registry.example.com/rancher/fleet-agent:v0.12.0")],
        LintOptions(policy=policy),
    )
    assert [(f.rule_id, f.waived) for f in named.findings] == [("SL302", True)]
    assert named.results[0].target.reference.startswith("registry.example.com/rancher/fleet-agent:v0.12.0@")


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        (Fault("/manifests/v1.0.0", "status", status=429, headers={"Retry-After": "1"}), "ok"),
        (Fault("/manifests/", "status", status=500), "ok"),
        (Fault("/blobs/", "status", status=503, times=2), "ok"),
        (Fault("/blobs/", "truncate"), "ok"),
        (Fault("/blobs/", "short-length", status=7), "ok"),
        (Fault("/manifests/v1.0.0", "drip", seconds=0.001), "ok"),
        (Fault("/manifests/v1.0.0", "status", status=500, times=99), "error"),
        (Fault("/blobs/", "status", status=503, times=99), "error"),
        (Fault("/blobs/", "truncate", times=99), "error"),
        (Fault("/blobs/", "short-length", status=7, times=99), "error"),
        (Fault("/blobs/", "corrupt", times=99), "sl105"),
        (Fault("/manifests/v1.0.0", "corrupt", times=99), "error"),
        (Fault("/manifests/v1.0.0", "delay", seconds=3, times=99), "error"),
        (Fault("/manifests/v1.0.0", "drip", seconds=1, times=99), "error"),
    ],
)
def test_faults_never_pass(registry: Registry, tmp_path: Path, fault: Fault, expect: str) -> None:
    """Faults that clear are retried and pass; faults that last end the check with exit 3 (a
    network fault, even while fetching evidence) or SL105 (evidence bytes that arrived broken)."""
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/faults")
    limits = Limits(read_timeout=1.0, request_timeout=2.0, retry_timeout=6.0)
    with proxy(registry.base, faults=[fault]) as (host, _state):
        settings = RegistrySettings(use_cache=False, limits=limits)
        request = LintRequest(target=f"{host}/app/faults:v1.0.0")
        started = time.monotonic()
        if expect == "error":
            with pytest.raises(OperationalError):
                lint([request], LintOptions(registry=settings))
            assert time.monotonic() - started < 12  # the retry budget (6 s) and one request (2 s)
            return
        report = check(f"{host}/app/faults:v1.0.0", settings=settings)
        if expect == "ok":
            assert ids(report) == [] and report.exit_code == 0
        else:
            assert report.exit_code == 1
            assert any(f.rule_id == "SL105" and "digest mismatch" in f.message for f in report.findings)


def test_cli_exit_codes_for_registry_failures(registry: Registry, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slsalint", "check", *args, "--no-cache"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    missing_tag = run(registry.ref("app/nothing-here", "v9"))
    assert missing_tag.returncode == 2 and "not found" in missing_tag.stderr
    unreachable = run("127.0.0.1:9/app/x:v1")
    assert unreachable.returncode == 3 and "cannot reach" in unreachable.stderr
    with proxy(registry.base, token="tok", users={"bob": "pw"}) as (host, _state):
        refused = run(f"{host}/app/x:v1")
        assert refused.returncode == 3 and "refused" in refused.stderr
    for result in (missing_tag, unreachable, refused):
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_signature_tag_is_not_an_image(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/sig")
    writer = LayoutWriter(tmp_path / "sig")
    tag = add_cosign_signature(writer, index["digest"])
    writer.write_index()
    registry.push_layout(tmp_path / "sig", "app/sig")
    expected = "cosign signature artifact, not an image; check the image it belongs to"
    with pytest.raises(
        ConfigError,
        match=rf"{expected}: .*@{index['digest']}$",
    ):
        check(registry.ref("app/sig", tag))


def test_platform_filter(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: [], ARM64: None})
    registry.push_layout(layout, "app/filter")
    report = check(registry.ref("app/filter", "v1.0.0"), platforms=[AMD64])
    assert ids(report) == []
    assert [str(p.platform) for p in report.results[0].target.platforms] == ["linux/amd64"]


def test_client_verifies_blob_digests(registry: Registry, tmp_path: Path) -> None:
    data = b"hello"
    digest = registry.push_blob("app/blob", data)
    with RegistryClient(cache=BlobCache(tmp_path / "c")) as client:
        from slsalint.sources.reference import parse_reference

        ref = parse_reference(registry.ref("app/blob", "x"))
        assert client.get_blob(ref, digest) == data
        assert client.get_blob(ref, digest) == data
        assert client.stats.blob_requests == 1 and client.stats.cache_hits == 1


def test_redirect_to_blob_storage_does_not_forward_credentials(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/redirect")
    # every blob request is sent on to "storage", another host:port than the registry
    with proxy(registry.base) as (storage, storage_state), proxy(registry.base, token="tok") as (host, state):
        state.faults = [
            Fault(
                f"/blobs/sha256:{b.name}",
                "redirect",
                location=f"http://{storage}/v2/app/redirect/blobs/sha256:{b.name}",
            )
            for b in (layout / "blobs/sha256").iterdir()
        ]
        report = check(f"{host}/app/redirect:v1.0.0")
    assert ids(report) == []
    assert storage_state.requests("/blobs/"), "blobs were not fetched from the storage host"
    with storage_state.lock:
        sent = [headers for _, path, headers in storage_state.log if "/blobs/" in path]
    assert sent and not any("authorization" in {k.lower() for k in h} for h in sent)
    with state.lock:
        assert any("Authorization" in h for _, p, h in state.log if "/manifests/" in p)


def test_single_platform_manifest_reference(registry: Registry, tmp_path: Path) -> None:
    writer = LayoutWriter(tmp_path / "single")
    image = bk.add_platform_image(writer, ARM64, seed="single")
    att = bk.add_attestation_manifest(
        writer, image, [bk.buildkit_v02_statement(image["digest"])], form="artifact"
    )
    writer.add_entry(image, ref_name="v1.0.0")
    writer.add_entry(
        att, ref_name=image["digest"].replace(":", "-")
    )  # stand-in for a referrers fallback index
    writer.write_index()
    registry.push_layout(tmp_path / "single", "app/single")
    report = check(registry.ref("app/single", digest=image["digest"]))
    [platform] = report.results[0].target.platforms
    assert str(platform.platform) == "linux/arm64"  # read from the image config
    assert platform.digest == image["digest"]
    assert report.results[0].target.index_digest is None
    assert ids(report) == [("SL101", "linux/arm64")]


def test_nested_index_is_followed(registry: Registry, tmp_path: Path) -> None:
    """An index whose only child is another index: the platforms below it are checked, and a
    statement naming the nested index applies to them."""
    writer = LayoutWriter(tmp_path / "nested")
    amd = bk.add_platform_image(writer, AMD64, seed="nested-amd")
    arm = bk.add_platform_image(writer, ARM64, seed="nested-arm")
    att = bk.add_attestation_manifest(writer, amd, [bk.buildkit_v02_statement(amd["digest"])])
    inner = writer.descriptor(
        writer.json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd, arm, att]}),
        OCI_INDEX,
    )
    bk.add_index(writer, [inner], ref_name="v1.0.0")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(inner["digest"]))
    bk.add_cosign_att(writer, inner["digest"], [envelope], as_kind=False)
    writer.write_index()
    registry.push_layout(tmp_path / "nested", "app/nested")
    report = check(registry.ref("app/nested", "v1.0.0"))
    target = report.results[0].target
    assert sorted(str(p.platform) for p in target.platforms) == ["linux/amd64", "linux/arm64"]
    arm_platform = next(p for p in target.platforms if p.platform == ARM64)
    assert [a.source.kind for a in arm_platform.attestations] == ["cosign-att"]
    assert ids(report) == []


def test_identity_token_goes_in_a_post_body(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/idtoken")
    with proxy(registry.base, token="access", refresh_tokens={"refresh-secret"}) as (host, state):
        config = tmp_path / "docker"
        config.mkdir()
        (config / "config.json").write_text(
            json.dumps({"auths": {host: {"identitytoken": "refresh-secret"}}})
        )
        monkeypatch.setenv("DOCKER_CONFIG", str(config))
        monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
        report = check(f"{host}/app/idtoken:v1.0.0")
        assert report.exit_code == 0
        with state.lock:
            tokens = list(state.token_log)
            paths = [path for _, path, _ in state.log]
    assert tokens and all(t.method == "POST" for t in tokens)
    assert tokens[0].form["grant_type"] == ["refresh_token"]
    assert tokens[0].form["refresh_token"] == ["refresh-secret"]
    assert tokens[0].form["scope"] == ["repository:app/idtoken:pull"]
    assert all("refresh-secret" not in path for path in paths)  # never in a URL


def test_credentials_are_not_sent_to_a_token_service_on_another_host(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/realm")
    with proxy(registry.base, token="t", users={"alice": "pw"}) as (auth_host, auth_state):
        # The token service answers on "localhost", the registry on "127.0.0.1": two hosts.
        realm = f"http://localhost:{auth_host.rsplit(':', 1)[1]}/token"
        with proxy(registry.base, token="t", realm=realm) as (host, _state):
            config = tmp_path / "docker"
            config.mkdir()
            auth = base64.b64encode(b"alice:pw").decode()
            (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
            monkeypatch.setenv("DOCKER_CONFIG", str(config))
            monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
            with pytest.raises(OperationalError, match="were not sent to localhost, another host"):
                check(f"{host}/app/realm:v1.0.0")
            with auth_state.lock:
                assert auth_state.token_log and all(t.authorization is None for t in auth_state.token_log)
            # Naming the token service's host in the credentials file allows it.
            (config / "config.json").write_text(
                json.dumps({"auths": {host: {"auth": auth}, realm.split("/")[2]: {}}})
            )
            assert check(f"{host}/app/realm:v1.0.0").exit_code == 0
            with auth_state.lock:
                assert auth_state.token_log[-1].authorization == f"Basic {auth}"


def test_known_token_services_get_the_registry_credentials() -> None:
    client = RegistryClient(trusted_host=lambda host: False)
    hub = parse_reference("alpine")
    gitlab = parse_reference("registry.gitlab.com/group/app:v1")
    ghcr = parse_reference("ghcr.io/org/app:v1")
    assert client.realm_gets_credentials(hub, "auth.docker.io")
    assert client.realm_gets_credentials(gitlab, "gitlab.com")
    assert client.realm_gets_credentials(ghcr, "ghcr.io:443")
    assert not client.realm_gets_credentials(ghcr, "auth.docker.io")
    assert not client.realm_gets_credentials(hub, "evil.example")
    client.close()


def test_a_fifo_in_the_cache_is_a_miss_not_a_hang(registry: Registry, tmp_path: Path) -> None:
    layout, index, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/fifo")
    cache = tmp_path / "cache"
    hexpart = index["digest"].split(":")[1]
    path = cache / "blobs" / "sha256" / hexpart[:2] / hexpart
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    result: list[Report] = []
    worker = threading.Thread(
        target=lambda: result.append(check(registry.ref("app/fifo", digest=index["digest"]), cache=cache)),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert result and result[0].exit_code == 0, "the check blocked on the FIFO"


def test_default_limits_give_up_on_a_stalled_or_rate_limiting_registry_within_60_s(
    registry: Registry, tmp_path: Path
) -> None:
    """With the default limits: a registry that never answers, and one that answers 429 with
    Retry-After: 10 forever, are both given up on (exit 3) in under 60 s. Run side by side."""
    layout, _, _ = build(tmp_path, attest={AMD64: []})
    registry.push_layout(layout, "app/stall")
    stall = Fault("/manifests/v1.0.0", "delay", seconds=600, times=99)
    storm = Fault("/manifests/v1.0.0", "status", status=429, headers={"Retry-After": "10"}, times=99)
    with (
        proxy(registry.base, faults=[stall]) as (stalled, _),
        proxy(registry.base, faults=[storm]) as (busy, _),
    ):
        started = time.monotonic()
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "slsalint", "check", f"{host}/app/stall:v1.0.0", "--no-cache"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for host in (stalled, busy)
        ]
        outcomes = [(*run.communicate(timeout=120), run.returncode) for run in runs]
        elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed
    (_, stall_err, stall_code), (_, storm_err, storm_code) = outcomes
    assert stall_code == 3 and "timed out talking to" in stall_err, stall_err
    assert storm_code == 3 and "rate limited by" in storm_err, storm_err


def test_attestation_manifest_or_signature_by_digest_names_its_image(
    registry: Registry, tmp_path: Path
) -> None:
    """check refuses them (exit 2) naming the image to check; explain explains them (D05)."""
    from slsalint.engine import explain

    writer = LayoutWriter(tmp_path / "byd")
    image = bk.add_platform_image(writer, AMD64, seed="byd")
    att = bk.add_attestation_manifest(writer, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(writer, [image, att], ref_name="v1.0.0")
    add_cosign_signature(writer, index["digest"])
    writer.write_index()
    registry.push_layout(tmp_path / "byd", "app/byd")
    sig = next(
        e["digest"]
        for e in json.loads((tmp_path / "byd" / "index.json").read_bytes())["manifests"]
        if e.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith(".sig")
    )
    belongs = f"{registry.host}/app/byd@{index['digest']}"
    for digest, what in (
        (att["digest"], "a BuildKit attestation manifest"),
        (sig, "a cosign signature artifact"),
    ):
        ref = registry.ref("app/byd", digest=digest)
        with pytest.raises(
            ConfigError, match=rf"is {what}, not an image; check the image it belongs to: {belongs}$"
        ):
            check(ref, replay=False)
        explained = explain(
            LintRequest(target=ref), LintOptions(registry=RegistrySettings(use_cache=False))
        ).to_json()
        assert [d["id"] for d in explained["diagnoses"]] == ["D05"]
        assert explained["diagnoses"][0]["fix"] == f"check the image it belongs to: {belongs}"
        assert explained["tree"]["what"] == what
