"""The side repository's tag list, asked together with the image, instead of a probe per tag.

On the real registry (CNCF distribution 2.8, no referrers API) behind the loopback proxy: with
the list, only the ``sha256-HEX.att``/``.sig`` and fallback referrers tags that exist are asked
for; when the registry cannot give the whole list in one answer (refused, paged, broken, slow),
each tag is asked for as before. Every way gives the same findings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint
from slsalint.model import Report
from slsalint.sources.layout_writer import LayoutWriter
from tests.registry.test_registry import findings
from tests.support import buildkit as bk
from tests.support.images import AMD64, ARM64, add_cosign_signature
from tests.support.proxy import Fault, proxy
from tests.support.registry import Registry

_SIDE_TAG = re.compile(r"/manifests/sha256-[0-9a-f]{64}(\.att|\.sig)?$")


def _image(registry: Registry, tmp_path: Path, repository: str) -> str:
    """An index over two attested platforms, a cosign .att on the index, a .sig on amd64 and a
    referrers fallback tag on arm64 (listing an artifact-form attestation manifest)."""
    writer = LayoutWriter(tmp_path / repository.replace("/", "-"))
    platforms = {p: bk.add_platform_image(writer, p, seed=f"{repository}-{p}") for p in (AMD64, ARM64)}
    manifests = list(platforms.values())
    for descriptor in platforms.values():
        statements = [bk.buildkit_v02_statement(descriptor["digest"])]
        manifests.append(bk.add_attestation_manifest(writer, descriptor, statements))
    index = bk.add_index(writer, manifests, ref_name="v1.0.0")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    add_cosign_signature(writer, platforms[AMD64]["digest"])
    statement = bk.buildkit_v02_statement(platforms[ARM64]["digest"])
    referrer = bk.add_attestation_manifest(writer, platforms[ARM64], [statement], form="artifact")
    listing = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{k: v for k, v in referrer.items() if k in ("mediaType", "digest", "size")}],
    }
    fallback = writer.descriptor(writer.json_bytes(listing), "application/vnd.oci.image.index.v1+json")
    writer.add_entry(fallback, ref_name=platforms[ARM64]["digest"].replace(":", "-"))
    writer.write_index()
    layout = writer.path
    registry.push_layout(layout, repository)
    return str(index["digest"])


def _check(registry: Registry, repository: str, faults: list[Fault]) -> tuple[Report, list[str]]:
    with proxy(registry.base, faults=faults) as (host, state):
        report = lint(
            [LintRequest(target=f"{host}/{repository}:v1.0.0")],
            LintOptions(registry=RegistrySettings(use_cache=False)),
        )
        return report, state.requests()


def _said(report: Report) -> list[tuple[str, ...]]:
    """The findings, with the proxy's address (a new port each run) left out."""
    host = report.results[0].target.reference.split("/")[0]
    return [tuple(str(value).replace(host, "HOST") for value in finding) for finding in findings(report)]


def test_listed_tags_are_the_only_side_tags_asked_for(registry: Registry, tmp_path: Path) -> None:
    _image(registry, tmp_path, "taglist/app")
    listed, paths = _check(registry, "taglist/app", [])
    # the .sig was read (its layer carries no signature: the finding that says so)
    assert [f.rule_id for f in listed.findings if "cosign/signature annotation" in f.message], listed.findings
    assert sum(p.endswith("/tags/list") for p in paths) == 1
    side = sorted(m.group(1) or "fallback" for p in paths if (m := _SIDE_TAG.search(p)))
    assert side == [".att", ".sig", "fallback"]  # the three that exist; none of the 5 absent ones
    [target] = [r.target for r in listed.results]
    kinds = sorted(a.source.kind for p in target.platforms for a in p.attestations)
    assert "cosign-att" in kinds and kinds.count("buildkit-attestation-manifest") >= 3

    # Without a usable list, every tag is asked for, and the findings are the same.
    for fault in (
        Fault("/tags/list", "status", status=403),  # listing refused (pull allowed)
        Fault("/tags/list", "status", status=404),  # no listing at this registry
        Fault(
            "/tags/list", "headers", headers={"Link": '</v2/taglist/app/tags/list?n=2&last=b>; rel="next"'}
        ),
        Fault("/tags/list", "corrupt"),
        Fault("/tags/list", "delay", seconds=1.0),  # slower than the image's answer: not waited for
    ):
        probed, paths = _check(registry, "taglist/app", [fault])
        assert _said(probed) == _said(listed), fault
        assert probed.exit_code == listed.exit_code
        side = [p for p in paths if _SIDE_TAG.search(p)]
        # .att and .sig of the index and 2 platforms; fallback tags of those and the 2 attestation manifests
        assert len(side) == 11, (fault, side)


def test_a_listed_tag_that_is_gone_is_absent(registry: Registry, tmp_path: Path) -> None:
    """A tag the list names but the registry no longer has (deleted in between) is no evidence,
    as a probe answered 404 is none."""
    index = _image(registry, tmp_path, "taglist/gone")
    gone = index.replace(":", "-") + ".att"
    listed, _ = _check(registry, "taglist/gone", [])
    report, paths = _check(registry, "taglist/gone", [Fault(f"/manifests/{gone}", "status", status=404)])
    assert any(p.endswith(gone) for p in paths)
    [target] = [r.target for r in report.results]
    assert not any(a.source.kind == "cosign-att" for p in target.platforms for a in p.attestations)
    assert report.exit_code == listed.exit_code


@pytest.mark.parametrize(
    ("listing", "asked"),
    [
        (b'{"name":"taglist/served","tags":null}', 0),  # distribution's empty repository
        (b'{"name":"taglist/served"}', 0),
        (b'{"name":"taglist/served","tags":["v1.0.0"]}', 0),
        (b'{"name":"taglist/served","tags":[1, 2]}', 11),  # malformed: every tag asked for
        (b'{"name":"taglist/served","tags":"v1.0.0"}', 11),
        (b"[]", 11),
        (b"not json", 11),
    ],
)
def test_what_the_listing_says(registry: Registry, tmp_path: Path, listing: bytes, asked: int) -> None:
    """A listing naming none of the side tags asks for none (the image then has only its index's
    attestation manifests); a malformed listing is no listing: every side tag is asked for."""
    _image(registry, tmp_path, "taglist/served")
    with proxy(registry.base, documents={"tags/list": (listing, "application/json")}) as (host, state):
        report = lint(
            [LintRequest(target=f"{host}/taglist/served:v1.0.0")],
            LintOptions(registry=RegistrySettings(use_cache=False)),
        )
        side = [p for p in state.requests() if _SIDE_TAG.search(p)]
    assert len(side) == asked, side
    [target] = [r.target for r in report.results]
    kinds = {a.source.kind for p in target.platforms for a in p.attestations}
    assert ("cosign-att" in kinds) == bool(asked)


def test_layers_are_asked_for_as_their_manifest_arrives(registry: Registry, tmp_path: Path) -> None:
    """An attestation manifest's layers are asked for when it arrives, not after the slowest
    answer of its round: with one platform manifest answered 0.6 s late, every layer has been
    asked for before that answer (the report is the same as without the delay)."""
    _image(registry, tmp_path, "taglist/pipelined")
    quick, _ = _check(registry, "taglist/pipelined", [])
    platform = quick.results[0].target.platforms[0].digest
    slow = Fault(f"/manifests/{platform}", "delay", seconds=0.6)
    with proxy(registry.base, faults=[slow]) as (host, state):
        report = lint(
            [LintRequest(target=f"{host}/taglist/pipelined:v1.0.0")],
            LintOptions(registry=RegistrySettings(use_cache=False)),
        )
        timings = list(state.timings)
    [late] = [answered for path, _, answered, _ in timings if path.endswith(f"/manifests/{platform}")]
    blobs = [arrived for path, arrived, _, _ in timings if "/blobs/" in path]
    assert len(blobs) >= 3 and max(blobs) < late
    assert _said(report) == _said(quick)
