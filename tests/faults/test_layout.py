"""Fault catalogue: OCI image layouts. Each row writes a layout (generated BuildKit/cosign content,
then one thing broken), runs ``slsalint check oci:DIR`` as a user does and asserts the exit code
and the first line of stderr, or the finding.

Exit 3: the image cannot be read whole (index, nested indexes, platform manifests, index.json,
oci-layout) or leaves nothing to judge; SL105 (exit 1): evidence that is missing or broken; exit 2:
the reference names no image, or a flag is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import OCI_INDEX, OCI_MANIFEST, REF_NAME, SNAPSHOT_REFERENCE_ANNOTATION
from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import buildkit as bk
from tests.support.images import add_cosign_signature

AMD64 = Platform("linux", "amd64")
UNKNOWN = Platform("unknown", "unknown")


@dataclass
class Image:
    writer: LayoutWriter
    image: dict[str, Any]
    attestation: dict[str, Any]
    index: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.writer.path

    def blob(self, descriptor: dict[str, Any]) -> Path:
        return self.writer.blob_path(descriptor["digest"])

    def layer(self) -> Path:
        manifest = json.loads(self.blob(self.attestation).read_bytes())
        return self.writer.blob_path(manifest["layers"][0]["digest"])


def attested(tmp: Path, *, write: bool = True) -> Image:
    """A one-platform image with BuildKit provenance, tagged v1.0.0 (the index.json is written)."""
    w = LayoutWriter(tmp / "layout")
    image = bk.add_platform_image(w, AMD64, seed="fault")
    att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(w, [image, att])
    if write:
        w.write_index()
    return Image(w, image, att, index)


def with_index(
    tmp: Path, manifests: list[dict[str, Any]] | Callable[[LayoutWriter], list[dict[str, Any]]]
) -> Path:
    """A layout whose image (tagged v1.0.0) is an index over ``manifests``."""
    w = LayoutWriter(tmp / "layout")
    children = manifests(w) if callable(manifests) else manifests
    bk.add_index(w, children)
    w.write_index()
    return w.path


def index_document(w: LayoutWriter, manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return w.descriptor(
        w.json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}), OCI_INDEX
    )


def write_index_json(path: Path, value: Any) -> None:
    (path / "index.json").write_bytes(value if isinstance(value, bytes) else json.dumps(value).encode())


def replace_blob(image: Image, descriptor: dict[str, Any], data: bytes | None) -> None:
    blob = image.blob(descriptor)
    blob.unlink()
    if data is not None:
        blob.write_bytes(data)


Setup = Callable[[Path], list[str]]


def check(path: Path, *extra: str) -> list[str]:
    return ["check", f"oci:{path}", *extra]


# --- nothing to judge ------------------------------------------------------------------------------


def empty_index(tmp: Path) -> list[str]:
    return check(with_index(tmp, []))


def only_attestation_manifests(tmp: Path) -> list[str]:
    def children(w: LayoutWriter) -> list[dict[str, Any]]:
        image = bk.add_platform_image(w, AMD64, seed="gone")
        return [bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])]

    return check(with_index(tmp, children))


def only_unknown(tmp: Path) -> list[str]:
    return check(
        with_index(tmp, lambda w: [bk.add_platform_image(w, UNKNOWN, seed=str(i)) for i in range(3)])
    )


def nested_with_nothing(tmp: Path) -> list[str]:
    return check(with_index(tmp, lambda w: [index_document(w, [])]))


def nested_too_deep(tmp: Path) -> list[str]:
    def children(w: LayoutWriter) -> list[dict[str, Any]]:
        level = index_document(w, [bk.add_platform_image(w, AMD64, seed="deep")])
        for _ in range(5):
            level = index_document(w, [level])
        return [level]

    return check(with_index(tmp, children))


# --- the image cannot be read whole ----------------------------------------------------------------


def platform_blob_missing(tmp: Path) -> list[str]:
    image = attested(tmp)
    replace_blob(image, image.image, None)
    return check(image.path)


def nested_blob_missing(tmp: Path) -> list[str]:
    w = LayoutWriter(tmp / "layout")
    inner = index_document(w, [bk.add_platform_image(w, AMD64, seed="nested")])
    bk.add_index(w, [inner])
    w.write_index()
    w.blob_path(inner["digest"]).unlink()
    return check(w.path)


def platform_is_an_index(tmp: Path) -> list[str]:
    def children(w: LayoutWriter) -> list[dict[str, Any]]:
        inner = index_document(w, [bk.add_platform_image(w, AMD64, seed="inner")])
        return [{**inner, "mediaType": OCI_MANIFEST, "platform": {"os": "linux", "architecture": "amd64"}}]

    return check(with_index(tmp, children))


def platform_size_wrong(tmp: Path) -> list[str]:
    def children(w: LayoutWriter) -> list[dict[str, Any]]:
        image = bk.add_platform_image(w, AMD64, seed="size")
        return [{**image, "size": image["size"] + 1}]

    return check(with_index(tmp, children))


def platform_fifo(tmp: Path) -> list[str]:
    image = attested(tmp)
    replace_blob(image, image.image, None)
    os.mkfifo(image.blob(image.image))
    return check(image.path)


def image_blob_missing(tmp: Path) -> list[str]:
    image = attested(tmp)
    replace_blob(image, image.index, None)
    return check(image.path)


def index_json_fifo(tmp: Path) -> list[str]:
    image = attested(tmp)
    (image.path / "index.json").unlink()
    os.mkfifo(image.path / "index.json")
    return check(image.path)


def index_json(value: Any, *extra: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        image = attested(tmp)
        write_index_json(image.path, value(image) if callable(value) else value)
        return check(image.path, *extra)

    return setup


def marker(data: bytes | None, *, device: bool = False) -> Setup:
    def setup(tmp: Path) -> list[str]:
        image = attested(tmp)
        (image.path / "oci-layout").unlink()
        if device:
            (image.path / "oci-layout").symlink_to("/dev/zero")
        elif data is not None:
            (image.path / "oci-layout").write_bytes(data)
        return check(image.path)

    return setup


def image_schema_one(tmp: Path) -> list[str]:
    w = LayoutWriter(tmp / "layout")
    data = json.dumps({"schemaVersion": 1, "name": "x", "tag": "v1", "fsLayers": []}).encode()
    w.add_entry(w.descriptor(data, OCI_MANIFEST), ref_name="v1.0.0")
    w.write_index()
    return check(w.path)


# --- evidence that is broken -----------------------------------------------------------------------


def evidence_manifest(mutate: Callable[[dict[str, Any]], None]) -> Setup:
    def setup(tmp: Path) -> list[str]:
        w = LayoutWriter(tmp / "layout")
        image = bk.add_platform_image(w, AMD64, seed="evidence")
        att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
        manifest = json.loads(w.blob_path(att["digest"]).read_bytes())
        mutate(manifest)
        bad = w.descriptor(w.json_bytes(manifest), OCI_MANIFEST)
        bk.add_index(w, [image, {**att, "digest": bad["digest"], "size": bad["size"]}])
        w.write_index()
        return check(w.path, "--format", "json")

    return setup


def layer_replaced(how: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        image = attested(tmp)
        layer = image.layer()
        layer.unlink()
        if how == "fifo":
            os.mkfifo(layer)
        elif how == "device":
            layer.symlink_to("/dev/zero")
        elif how == "directory":
            layer.mkdir()
        return check(image.path, "--format", "json")

    return setup


# --- references that name no image, and flags ------------------------------------------------------


def attestation_manifest_by_digest(tmp: Path) -> list[str]:
    image = attested(tmp)
    return ["check", f"oci:{image.path}@{image.attestation['digest']}"]


def signature(by: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        image = attested(tmp, write=False)
        tag = add_cosign_signature(image.writer, image.index["digest"])
        image.writer.write_index()
        if by == "tag":
            return ["check", f"oci:{image.path}:{tag}"]
        entries = json.loads((image.path / "index.json").read_bytes())["manifests"]
        sig = next(e["digest"] for e in entries if e.get("annotations", {}).get(REF_NAME) == tag)
        return ["check", f"oci:{image.path}@{sig}"]

    return setup


def snapshot_for_another_digest(tmp: Path) -> list[str]:
    image = attested(tmp)
    index = json.loads((image.path / "index.json").read_bytes())
    index["manifests"][0]["annotations"][SNAPSHOT_REFERENCE_ANNOTATION] = (
        "registry.example.com/app:v1@sha256:" + "9" * 64
    )
    write_index_json(image.path, index)
    return check(image.path)


def image_name(value: str | Callable[[Image], str]) -> Setup:
    def setup(tmp: Path) -> list[str]:
        image = attested(tmp)
        name = value(image) if callable(value) else value
        return check(image.path, "--image-name", name)

    return setup


def _layers_object(m: dict[str, Any]) -> None:
    m["layers"] = {"layer": m["layers"][0]}


def _layer_size_bool(m: dict[str, Any]) -> None:
    m["layers"][0]["size"] = True


def _subject_string(m: dict[str, Any]) -> None:
    m["subject"] = "sha256:" + "1" * 64


def _index_entries_annotations_list(image: Image) -> dict[str, Any]:
    index: dict[str, Any] = json.loads((image.path / "index.json").read_bytes())
    index["manifests"][0]["annotations"] = ["org.opencontainers.image.ref.name=v1.0.0"]
    return index


def _index_entry_digest_bad(image: Image) -> dict[str, Any]:
    index: dict[str, Any] = json.loads((image.path / "index.json").read_bytes())
    index["manifests"][0]["digest"] = "sha256:../../etc/passwd"
    return index


def _deep(levels: int) -> bytes:
    return b'{"schemaVersion": 2, "manifests": ' + b"[" * levels + b"]" * levels + b"}"


ROWS: list[tuple[Fault, Setup]] = [
    (
        Fault("empty-index", 3, r"lists no platform image to check \(its manifests list is empty\)"),
        empty_index,
    ),
    (
        Fault(
            "only-attestation-manifests",
            3,
            r"\(it lists only 1 attestation manifest\); nothing can be judged",
        ),
        only_attestation_manifests,
    ),
    (Fault("only-unknown-platforms", 3, r"\(it lists only 3 unknown/unknown manifests\)"), only_unknown),
    (Fault("nested-index-with-nothing", 3, r"\(it lists only 1 nested index\)"), nested_with_nothing),
    (Fault("nested-too-deep", 3, r"image indexes nested more than 4 levels deep"), nested_too_deep),
    (
        Fault(
            "platform-manifest-blob-missing",
            3,
            r"platform manifest sha256:[0-9a-f]{64} \(linux/amd64\): "
            r"is missing from the layout \(truncated layout\)",
        ),
        platform_blob_missing,
    ),
    (
        Fault("nested-index-blob-missing", 3, r"nested index sha256:[0-9a-f]{64}: is missing"),
        nested_blob_missing,
    ),
    (
        Fault("platform-manifest-is-an-index", 3, r"is an image index, but the index lists it as a platform"),
        platform_is_an_index,
    ),
    (
        Fault("platform-manifest-size-wrong", 3, r"is \d+ bytes but its descriptor says \d+"),
        platform_size_wrong,
    ),
    (Fault("platform-manifest-fifo", 3, r"\(linux/amd64\): is a FIFO, not a regular file"), platform_fifo),
    (
        Fault("image-blob-missing", 3, r"cannot read the image: blob sha256:[0-9a-f]{64} is missing"),
        image_blob_missing,
    ),
    (Fault("index-json-fifo", 3, r"index\.json: is a FIFO, not a regular file"), index_json_fifo),
    (
        Fault(
            "index-json-over-size-limit",
            3,
            r"index\.json: is \d+ bytes, larger than the limit .*--limit index-size",
        ),
        index_json(lambda image: (image.path / "index.json").read_bytes(), "--limit", "index-size=100"),
    ),
    (
        Fault("index-json-mediatype-number", 3, r"index\.json: 'mediaType' is a number, not a string"),
        index_json({"schemaVersion": 2, "mediaType": 7, "manifests": []}),
    ),
    (
        Fault("index-json-deep-nesting", 3, r"index\.json: not acceptable JSON: nested more than 64"),
        index_json(_deep(3000)),
    ),
    (
        Fault(
            "index-json-not-an-object",
            3,
            r"index\.json: not a JSON object \(a array\)|index\.json: not a JSON object",
        ),
        index_json([]),
    ),
    (
        Fault("index-json-annotations-list", 3, r"'annotations' is a list, not an object"),
        index_json(_index_entries_annotations_list),
    ),
    (
        Fault(
            "index-json-digest-path",
            3,
            r"descriptor has a missing or malformed digest 'sha256:\.\./\.\./etc/passwd'",
        ),
        index_json(_index_entry_digest_bad),
    ),
    (
        Fault("index-json-infinity", 3, r"Infinity is not a JSON number"),
        index_json(b'{"manifests": [], "x": -Infinity}'),
    ),
    (Fault("oci-layout-malformed", 3, r"oci-layout file is malformed"), marker(b"[1, 2")),
    (
        Fault("oci-layout-is-dev-zero", 3, r"oci-layout: is a character device, not a regular file"),
        marker(None, device=True),
    ),
    (Fault("oci-layout-missing", 3, r"not an OCI image layout \(no oci-layout file\)"), marker(None)),
    (Fault("image-schema-version-1", 3, r"schemaVersion 1 is not supported"), image_schema_one),
    (
        Fault("evidence-layers-not-a-list", 1, finding="SL105", message=r"'layers' is an object, not a list"),
        evidence_manifest(_layers_object),
    ),
    (
        Fault("evidence-layer-size-boolean", 1, finding="SL105", message=r"has no valid size"),
        evidence_manifest(_layer_size_bool),
    ),
    (
        Fault(
            "evidence-subject-string",
            1,
            finding="SL105",
            message=r"subject: descriptor is a string, not an object",
        ),
        evidence_manifest(_subject_string),
    ),
    (
        Fault("evidence-layer-fifo", 1, finding="SL105", message=r"is a FIFO, not a regular file"),
        layer_replaced("fifo"),
    ),
    (
        Fault(
            "evidence-layer-dev-zero",
            1,
            finding="SL105",
            message=r"is a character device, not a regular file",
        ),
        layer_replaced("device"),
    ),
    (
        Fault("evidence-layer-directory", 1, finding="SL105", message=r"is a directory, not a regular file"),
        layer_replaced("directory"),
    ),
    (
        Fault(
            "evidence-layer-missing",
            1,
            finding="SL105",
            message=r"is missing from the layout \(truncated layout\)",
        ),
        layer_replaced("missing"),
    ),
    (
        Fault(
            "attestation-manifest-by-digest",
            2,
            r"is a BuildKit attestation manifest, not an image; "
            r"check the image it belongs to: oci:.*@sha256:",
        ),
        attestation_manifest_by_digest,
    ),
    (
        Fault(
            "signature-by-digest",
            2,
            r"is a cosign signature artifact, not an image; check the image it belongs to: oci:",
        ),
        signature("digest"),
    ),
    (
        Fault(
            "signature-by-tag",
            2,
            r"is a cosign signature artifact, not an image; check the image it belongs to: oci:",
        ),
        signature("tag"),
    ),
    (
        Fault("snapshot-reference-for-another-digest", 3, r"the snapshot records .* for another digest"),
        snapshot_for_another_digest,
    ),
    (
        Fault(
            "image-name-other-digest",
            2,
            r"--image-name example\.com/app@sha256:9+: names digest sha256:9+, but the image",
        ),
        image_name("example.com/app@sha256:" + "9" * 64),
    ),
    (Fault("image-name-malformed", 2, r"malformed repository 'App'"), image_name("example.com/App:v1")),
    (
        Fault(
            "image-name-with-credentials", 2, r"\*\*\*@example\.com/app:v1: an image reference cannot carry"
        ),
        image_name("u:pw@example.com/app:v1"),
    ),
    (
        Fault("bad-limit-value", 2, r"--limit blob-size=lots: expected a size such as 512K"),
        index_json(lambda i: (i.path / "index.json").read_bytes(), "--limit", "blob-size=lots"),
    ),
]


@pytest.mark.parametrize(("fault", "setup"), ROWS, ids=ids([f for f, _ in ROWS]))
def test_layout_fault(fault: Fault, setup: Setup, tmp_path: Path) -> None:
    outcome = run(*setup(tmp_path), cwd=tmp_path, timeout=60)
    assert_fault(fault, outcome)


def test_attestation_manifest_names_the_index_it_belongs_to(tmp_path: Path) -> None:
    image = attested(tmp_path)
    outcome = run("check", f"oci:{image.path}@{image.attestation['digest']}", cwd=tmp_path)
    assert outcome.first_line.endswith(f"oci:{image.path}@{image.index['digest']}")


def test_rows_are_unique() -> None:
    names = ids([f for f, _ in ROWS])
    assert len(names) == len(set(names))
