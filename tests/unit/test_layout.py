"""OCI image layouts end to end: the real corpus layouts and generated BuildKit/cosign layouts,
read through ``collect_layout`` and checked through ``slsalint.engine.lint``."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slsalint.engine import LintOptions, LintRequest, build_target, lint
from slsalint.errors import ConfigError, OperationalError
from slsalint.model import Level, Platform, Report, Target
from slsalint.sources.layout import collect_layout
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import OCI_INDEX, PREDICATE_TYPE_ANNOTATION
from tests.support import buildkit as bk

ROOT = Path(__file__).resolve().parents[2]
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
MAX_LAYOUT = "oci-layouts/example-package-v1.9.0-buildkit-max"
MIN_LAYOUT = "oci-layouts/example-package-v2.1.0-buildkit-min"


def check(target: str, *, platforms: list[Platform] | None = None) -> Report:
    return lint([LintRequest(target=target, platforms=platforms or [])], LintOptions())


def seen(report: Report) -> list[tuple[str, str, str | None]]:
    """What a user reads first: (rule id, level, platform) of every finding, sorted."""
    return sorted((f.rule_id, f.level.value, f.platform) for f in report.findings)


def target_of(text: str, platforms: list[Platform] | None = None) -> Target:
    return build_target(collect_layout(text, platforms=platforms))


def make_image(
    path: Path,
    *,
    platforms: tuple[Platform, ...] = (AMD64, ARM64),
    attested: tuple[Platform, ...] | None = None,
    form: str = "classic",
    statement: Callable[[str, Platform], dict[str, Any]] | None = None,
    tag: str | None = "v1.0.0",
    seed: str = "app",
    writer: LayoutWriter | None = None,
) -> tuple[LayoutWriter, dict[str, Any], dict[Platform, dict[str, Any]], dict[Platform, dict[str, Any]]]:
    """Add a multi-platform image to the layout at ``path``; ``attested`` platforms get an
    attestation manifest holding ``statement(platform digest, platform)`` (default: mode=max v0.2).

    Returns the writer, the index descriptor, platform descriptors and attestation descriptors.
    The caller writes index.json.
    """
    w = writer or LayoutWriter(path)
    images = {p: bk.add_platform_image(w, p, seed=f"{seed}-{p}") for p in platforms}
    make = statement or (lambda digest, p: bk.buildkit_v02_statement(digest, name=_purl(p)))
    atts = {
        p: bk.add_attestation_manifest(w, images[p], [make(images[p]["digest"], p)], form=form)
        for p in (platforms if attested is None else attested)
    }
    index = bk.add_index(w, [*images.values(), *atts.values()], ref_name=tag)
    return w, index, images, atts


def _purl(platform: Platform) -> str:
    return f"pkg:docker/example.com/demo/app@v1.0.0?platform={str(platform).replace('/', '%2F')}"


def provenance_layer(w: LayoutWriter, attestation: dict[str, Any]) -> Path:
    manifest = json.loads(w.blob_path(attestation["digest"]).read_bytes())
    [layer] = [
        x for x in manifest["layers"] if "slsa.dev/provenance" in x["annotations"][PREDICATE_TYPE_ANNOTATION]
    ]
    return w.blob_path(layer["digest"])


# --- LayoutWriter --------------------------------------------------------------------------------


def test_writer_produces_a_readable_deterministic_layout(tmp_path: Path) -> None:
    w = LayoutWriter(tmp_path / "a")
    digest = w.add_blob(b"hello")
    assert digest == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert w.add_blob(b"hello") == digest
    assert [p.name for p in (tmp_path / "a/blobs/sha256").iterdir()] == [digest.split(":")[1]]
    descriptor = w.descriptor(
        b"{}",
        "application/vnd.oci.empty.v1+json",
        annotations={"k": "v"},
        platform=Platform("linux", "arm", "v7"),
    )
    assert descriptor == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
        "annotations": {"k": "v"},
        "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
    }
    w.add_entry(descriptor, ref_name="latest")
    w.add_entry(descriptor, ref_name="latest")
    w.write_index()
    index = json.loads((tmp_path / "a/index.json").read_bytes())
    assert index["schemaVersion"] == 2 and index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [e["annotations"] for e in index["manifests"]] == [
        {"k": "v", "org.opencontainers.image.ref.name": "latest"}
    ]
    assert json.loads((tmp_path / "a/oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}

    # The same calls give the same bytes.
    for name in ("b", "c"):
        make_image(tmp_path / name)[0].write_index()
    files_b = {
        p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()
    }
    files_c = {
        p.relative_to(tmp_path / "c"): p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file()
    }
    assert files_b == files_c


def test_writer_repairs_a_corrupt_blob(tmp_path: Path) -> None:
    w = LayoutWriter(tmp_path)
    digest = w.add_blob(b"content")
    w.blob_path(digest).write_bytes(b"CONTENT")
    assert LayoutWriter(tmp_path).add_blob(b"content") == digest
    assert w.blob_path(digest).read_bytes() == b"content"


def test_padded_statements_reach_the_requested_size() -> None:
    statement = bk.buildkit_v02_statement("sha256:" + "1" * 64, pad_to=10_000)
    size = len(bk.statement_bytes(statement))
    assert 10_000 <= size < 11_500
    steps = statement["predicate"]["buildConfig"]["llbDefinition"]
    assert len(steps) == len(statement["predicate"]["buildConfig"]["digestMapping"])
    assert steps[-1]["op"] == {"Op": None}


# --- real layouts from the corpus ----------------------------------------------------------------


def test_corpus_mode_max_layout_has_no_mode_min_finding(corpus: Path) -> None:
    report = check(f"oci:{corpus / MAX_LAYOUT}")
    [result] = report.results
    assert [str(p.platform) for p in result.target.platforms] == ["linux/amd64"]
    assert "SL302" not in {f.rule_id for f in report.findings}
    assert "SL101" not in {f.rule_id for f in report.findings}
    kinds = {a.source.kind for a in result.target.platforms[0].attestations}
    assert kinds == {"buildkit-attestation-manifest", "cosign-att"}


def test_corpus_mode_min_layout_fails_on_mode_min(corpus: Path) -> None:
    report = check(f"oci:{corpus / MIN_LAYOUT}")
    [finding] = [f for f in report.findings if f.rule_id == "SL302"]
    assert finding.level is Level.ERROR
    assert finding.platform == "linux/amd64"
    assert finding.digest == "sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69"
    assert "mode=min" in finding.message
    assert finding.source is not None and finding.source.startswith("buildkit-attestation-manifest")
    assert report.exit_code == 1


@pytest.mark.parametrize(
    ("layout", "index_digest"),
    [
        (MAX_LAYOUT, "sha256:5b146084201148bf151871fa779767f013c47706d031106af0d727fb5b88f5ac"),
        (MIN_LAYOUT, "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122"),
    ],
)
def test_corpus_cosign_att_is_decoded_and_bound_to_the_index(
    corpus: Path, layout: str, index_digest: str
) -> None:
    target = target_of(f"oci:{corpus / layout}")
    assert target.is_index and target.index_digest == index_digest
    assert target.problems == [] and target.unmatched == []
    [platform] = target.platforms
    [cosign] = [a for a in platform.attestations if a.source.kind == "cosign-att"]
    assert cosign.envelope == "dsse"
    assert cosign.applies_to_index
    assert cosign.subject_digests() == {index_digest}
    assert cosign.predicate_type == "https://slsa.dev/provenance/v0.2"
    assert cosign.provenance is not None and cosign.provenance.flavor == "slsa-github-generator"


# --- generated layouts ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["classic", "artifact"])
def test_attestation_manifests_are_found_per_platform(tmp_path: Path, form: str) -> None:
    w, index, images, atts = make_image(tmp_path / "img", form=form)
    w.write_index()
    target = target_of(f"oci:{tmp_path / 'img'}")
    assert target.index_digest == index["digest"]
    assert [(p.platform, p.digest) for p in target.platforms] == [
        (p, images[p]["digest"]) for p in (AMD64, ARM64)
    ]
    for platform, expected in zip(target.platforms, (AMD64, ARM64), strict=True):
        [attestation] = platform.attestations
        assert attestation.source.kind == "buildkit-attestation-manifest"
        manifest = json.loads(w.blob_path(atts[expected]["digest"]).read_bytes())
        assert attestation.source.digest == manifest["layers"][0]["digest"]
        assert manifest.get("artifactType") == (
            "application/vnd.docker.attestation.manifest.v1+json" if form == "artifact" else None
        )
        assert attestation.envelope == "statement" and not attestation.applies_to_index
        assert attestation.provenance is not None and attestation.provenance.mode.value == "max"
    report = check(f"oci:{tmp_path / 'img'}")
    assert seen(report) == []
    assert report.exit_code == 0


def test_artifact_form_is_bound_by_its_subject_alone(tmp_path: Path) -> None:
    """A descriptor with artifactType but without vnd.docker.reference annotations still binds."""
    w = LayoutWriter(tmp_path)
    image = bk.add_platform_image(w, AMD64, seed="subject-only")
    att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])], form="artifact")
    del att["annotations"]
    bk.add_index(w, [image, att])
    w.write_index()
    [platform] = target_of(f"oci:{tmp_path}").platforms
    assert [a.source.kind for a in platform.attestations] == ["buildkit-attestation-manifest"]


def test_sbom_layers_are_read_when_a_rule_needs_them(tmp_path: Path) -> None:
    def both(digest: str, platform: Platform) -> list[dict[str, Any]]:
        return [bk.buildkit_v02_statement(digest, name=_purl(platform)), bk.spdx_statement(digest)]

    w = LayoutWriter(tmp_path)
    image = bk.add_platform_image(w, AMD64, seed="sbom")
    att = bk.add_attestation_manifest(w, image, both(image["digest"], AMD64))
    bk.add_index(w, [image, att])
    w.write_index()
    with_sbom = collect_layout(f"oci:{tmp_path}", want_sbom=True)
    without = collect_layout(f"oci:{tmp_path}", want_sbom=False)
    assert len(with_sbom.evidence) == 2 and len(without.evidence) == 1
    [platform] = build_target(with_sbom).platforms
    assert sorted(a.predicate_type for a in platform.attestations) == [
        "https://slsa.dev/provenance/v0.2",
        "https://spdx.dev/Document",
    ]
    scout = lint([LintRequest(target=f"oci:{tmp_path}")], LintOptions(packs=["docker-scout"]))
    assert "SL102" not in {f.rule_id for f in scout.findings}


def test_platform_without_attestation_manifest(tmp_path: Path) -> None:
    make_image(tmp_path, attested=(AMD64,))[0].write_index()
    report = check(f"oci:{tmp_path}")
    assert seen(report) == [("SL101", "error", "linux/arm64"), ("SL106", "warning", "linux/arm64")]
    sl101 = next(f for f in report.findings if f.rule_id == "SL101")
    assert sl101.message == "no SLSA provenance found for platform linux/arm64"
    sl106 = next(f for f in report.findings if f.rule_id == "SL106")
    assert "linux/amd64" in sl106.message
    assert report.exit_code == 1


def test_statement_naming_another_digest_is_a_subject_mismatch(tmp_path: Path) -> None:
    other = "sha256:" + "e" * 64
    make_image(tmp_path, platforms=(AMD64,), statement=lambda digest, p: bk.buildkit_v02_statement(other))[
        0
    ].write_index()
    report = check(f"oci:{tmp_path}")
    assert seen(report) == [("SL101", "error", "linux/amd64"), ("SL103", "error", "linux/amd64")]
    sl103 = next(f for f in report.findings if f.rule_id == "SL103")
    assert sl103.message == f"https://slsa.dev/provenance/v0.2 attestation names {other}, not this image"
    assert sl103.source is not None and sl103.source.startswith("buildkit-attestation-manifest")


def test_tampered_attestation_layer_is_an_envelope_error(tmp_path: Path) -> None:
    w, _, _, atts = make_image(tmp_path, platforms=(AMD64,))
    w.write_index()
    layer = provenance_layer(w, atts[AMD64])
    data = layer.read_bytes()
    layer.write_bytes(data.replace(b"example", b"exampl3", 1))
    assert layer.read_bytes() != data and len(layer.read_bytes()) == len(data)
    report = check(f"oci:{tmp_path}")
    assert seen(report) == [("SL101", "error", "linux/amd64"), ("SL105", "error", "linux/amd64")]
    sl105 = next(f for f in report.findings if f.rule_id == "SL105")
    assert "digest mismatch" in sl105.message
    assert layer.name in sl105.message
    assert report.exit_code == 1


def test_missing_attestation_blob_is_an_envelope_error(tmp_path: Path) -> None:
    w, _, _, atts = make_image(tmp_path, platforms=(AMD64, ARM64))
    w.write_index()
    provenance_layer(w, atts[ARM64]).unlink()
    report = check(f"oci:{tmp_path}")
    # arm64 has an attestation manifest, so the platforms are not unevenly attested (no SL106).
    assert seen(report) == [("SL101", "error", "linux/arm64"), ("SL105", "error", "linux/arm64")]
    sl105 = next(f for f in report.findings if f.rule_id == "SL105")
    assert "missing" in sl105.message


def test_platform_filter_leaves_other_platforms_out_completely(tmp_path: Path) -> None:
    w, _, _, atts = make_image(tmp_path)
    w.write_index()
    provenance_layer(w, atts[ARM64]).write_bytes(b"{}")  # broken arm64 evidence
    unfiltered = check(f"oci:{tmp_path}")
    assert ("SL105", "error", "linux/arm64") in seen(unfiltered)

    report = check(f"oci:{tmp_path}", platforms=[AMD64])
    assert [str(p.platform) for p in report.results[0].target.platforms] == ["linux/amd64"]
    assert seen(report) == []
    assert report.exit_code == 0
    assert not any("arm64" in f.message or f.platform == "linux/arm64" for f in report.findings)

    with pytest.raises(ConfigError, match="no platform matching linux/s390x"):
        check(f"oci:{tmp_path}", platforms=[Platform("linux", "s390x")])


def _two_images(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    w, first, _, _ = make_image(path, tag="v1.0.0", seed="one")
    _, second, _, _ = make_image(
        path,
        tag="v2.0.0",
        seed="two",
        writer=w,
        statement=lambda digest, p: bk.buildkit_v02_statement(digest, name=_purl(p), mode="min"),
    )
    w.write_index()
    return first, second


def test_select_image_by_tag_and_by_digest(tmp_path: Path) -> None:
    first, second = _two_images(tmp_path)
    by_tag = check(f"oci:{tmp_path}:v2.0.0")
    assert by_tag.results[0].target.index_digest == second["digest"]
    assert seen(by_tag) == [("SL302", "error", "linux/amd64"), ("SL302", "error", "linux/arm64")]
    assert check(f"oci:{tmp_path}:v1.0.0").results[0].target.index_digest == first["digest"]
    assert seen(check(f"oci:{tmp_path}:v1.0.0")) == []

    by_digest = check(f"oci:{tmp_path}@{second['digest']}")
    assert by_digest.results[0].target.index_digest == second["digest"]
    assert by_digest.results[0].target.reference == f"oci:{tmp_path}@{second['digest']}"
    assert seen(by_digest) == seen(by_tag)


def test_two_tagged_images_need_a_tag(tmp_path: Path) -> None:
    _two_images(tmp_path)
    with pytest.raises(ConfigError, match=r"holds 2 images \(v1\.0\.0, v2\.0\.0\).*oci:PATH:TAG"):
        check(f"oci:{tmp_path}")
    with pytest.raises(ConfigError, match=r"no image tagged 'v3' \(tags: v1\.0\.0, v2\.0\.0\)"):
        check(f"oci:{tmp_path}:v3")
    with pytest.raises(ConfigError, match="no manifest with digest"):
        check(f"oci:{tmp_path}@sha256:{'0' * 64}")


def test_missing_index_json_is_an_operational_error(tmp_path: Path) -> None:
    make_image(tmp_path)  # blobs and oci-layout, index.json never written
    with pytest.raises(OperationalError, match=r"index\.json is missing") as raised:
        check(f"oci:{tmp_path}")
    assert raised.value.exit_code == 3


@pytest.mark.parametrize("as_kind", [True, False])
def test_cosign_att_for_the_index_applies_to_every_platform(tmp_path: Path, as_kind: bool) -> None:
    w, index, _, _ = make_image(tmp_path, attested=())
    bk.add_cosign_att(
        w, index["digest"], [bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))], as_kind=as_kind
    )
    w.write_index()
    target = target_of(f"oci:{tmp_path}:v1.0.0")
    for platform in target.platforms:
        [attestation] = platform.attestations
        assert (attestation.source.kind, attestation.envelope) == ("cosign-att", "dsse")
        assert attestation.applies_to_index
    assert seen(check(f"oci:{tmp_path}:v1.0.0")) == []


def test_buildkit_v1_provenance_in_a_layout(tmp_path: Path) -> None:
    make_image(
        tmp_path, statement=lambda digest, p: bk.buildkit_v1_statement(digest, name=_purl(p), mode="min")
    )[0].write_index()
    report = check(f"oci:{tmp_path}")
    assert seen(report) == [("SL302", "error", "linux/amd64"), ("SL302", "error", "linux/arm64")]
    sl302 = report.findings[0]
    assert sl302.pointer == "/predicate/buildDefinition/internalParameters/buildConfig"


# --- the demo image ------------------------------------------------------------------------------


def test_demo_image_shows_one_warning_and_passes() -> None:
    demo = ROOT / "examples" / "demo-image"
    report = check(f"oci:{demo}")
    assert report.exit_code == 0
    assert seen(report) == [("SL404", "warning", "linux/arm64")]
    [finding] = report.findings
    assert finding.message == "material 'https://example.com/downloads/tool-1.2.tar.gz' has no digest"
    assert finding.pointer == "/predicate/materials/3"
    assert [str(p.platform) for p in report.results[0].target.platforms] == ["linux/amd64", "linux/arm64"]
    scout = lint([LintRequest(target=f"oci:{demo}")], LintOptions(packs=["docker-scout"]))
    assert [f.rule_id for f in scout.findings] == []


def test_demo_image_is_up_to_date(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_demo", ROOT / "examples" / "build_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path / "demo")
    committed = ROOT / "examples" / "demo-image"
    fresh = {
        p.relative_to(tmp_path / "demo"): p.read_bytes()
        for p in (tmp_path / "demo").rglob("*")
        if p.is_file()
    }
    stored = {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*") if p.is_file()}
    assert fresh == stored, "examples/demo-image is stale: run python examples/build_demo.py"


# --- nested indexes, names, and what is not an image ---------------------------------------------


def test_nested_indexes_are_followed(tmp_path: Path) -> None:
    w = LayoutWriter(tmp_path)
    amd = bk.add_platform_image(w, AMD64, seed="n-amd")
    arm = bk.add_platform_image(w, ARM64, seed="n-arm")
    att = bk.add_attestation_manifest(w, arm, [bk.buildkit_v02_statement(arm["digest"])])
    inner = w.descriptor(
        w.json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd]}), OCI_INDEX
    )
    middle = w.descriptor(
        w.json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [inner, arm, att]}),
        OCI_INDEX,
    )
    bk.add_index(w, [middle])
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(inner["digest"]))
    bk.add_cosign_att(w, inner["digest"], [envelope], as_kind=False)  # names the innermost index
    w.write_index()
    target = target_of(f"oci:{tmp_path}")
    by_platform = {str(p.platform): [a.source.kind for a in p.attestations] for p in target.platforms}
    assert by_platform == {"linux/amd64": ["cosign-att"], "linux/arm64": ["buildkit-attestation-manifest"]}
    assert seen(check(f"oci:{tmp_path}")) == []


def test_image_name_judges_a_layout_as_a_registry_image(tmp_path: Path) -> None:
    w, index, _, _ = make_image(tmp_path)
    w.write_index()
    named = lint([LintRequest(target=f"oci:{tmp_path}", image_name="ghcr.io/acme/app:v1.0.0")], LintOptions())
    [result] = named.results
    assert result.target.reference == f"ghcr.io/acme/app:v1.0.0@{index['digest']}"
    assert {f.image for f in named.findings} <= {result.target.reference}
    with pytest.raises(ConfigError, match=r"names digest sha256:0+, but the image of"):
        collect_layout(f"oci:{tmp_path}", image_name_override="ghcr.io/acme/app@sha256:" + "0" * 64)


def test_a_snapshot_is_judged_as_the_image_it_was_fetched_from(tmp_path: Path) -> None:
    from slsalint.sources.oci import SNAPSHOT_REFERENCE_ANNOTATION

    w = LayoutWriter(tmp_path)
    images = {p: bk.add_platform_image(w, p, seed=f"snap-{p}") for p in (AMD64,)}
    att = bk.add_attestation_manifest(w, images[AMD64], [bk.buildkit_v02_statement(images[AMD64]["digest"])])
    index = w.descriptor(
        w.json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [images[AMD64], att]}),
        OCI_INDEX,
    )
    recorded = f"registry.example.com/team/app:v2@{index['digest']}"
    w.add_entry(index, ref_name="v2", annotations={SNAPSHOT_REFERENCE_ANNOTATION: recorded})
    w.write_index()
    collected = collect_layout(f"oci:{tmp_path}")
    assert collected.reference == recorded
    located = {e.source.location for e in collected.evidence}
    assert located == {f"registry.example.com/team/app@{att['digest']}"}


def test_an_index_with_nothing_to_check_is_never_a_pass(tmp_path: Path) -> None:
    w = LayoutWriter(tmp_path)
    bk.add_index(w, [])
    w.write_index()
    with pytest.raises(OperationalError, match="lists no platform image to check"):
        check(f"oci:{tmp_path}")


def test_platform_manifests_of_an_index_are_read(tmp_path: Path) -> None:
    w, _, images, _ = make_image(tmp_path)
    w.write_index()
    w.blob_path(images[ARM64]["digest"]).write_bytes(b"{}")
    with pytest.raises(OperationalError, match=r"platform manifest sha256:[0-9a-f]+ \(linux/arm64\): "):
        check(f"oci:{tmp_path}")


def test_explain_says_what_an_attestation_manifest_is_and_which_image_to_check(tmp_path: Path) -> None:
    from slsalint.engine import RegistrySettings, explain

    w, index, _, atts = make_image(tmp_path)
    w.write_index()
    result = explain(
        LintRequest(target=f"oci:{tmp_path}@{atts[AMD64]['digest']}"),
        LintOptions(registry=RegistrySettings()),
    )
    document = result.to_json()
    [diagnosis] = document["diagnoses"]
    assert diagnosis["id"] == "D05"
    assert diagnosis["evidence"] == [
        f"oci:{tmp_path}@{atts[AMD64]['digest']} is a BuildKit attestation manifest"
    ]
    assert diagnosis["fix"] == f"check the image it belongs to: oci:{tmp_path}@{index['digest']}"
    assert result.exit_code == 1
    with pytest.raises(ConfigError, match="is a BuildKit attestation manifest, not an image"):
        check(f"oci:{tmp_path}@{atts[AMD64]['digest']}")
