"""Fuzz OCI documents and layouts: manifests, indexes, descriptors, ``index.json``, evidence
manifests and blobs, and the registry answers' URLs and references.

Each target asserts the documented outcome and nothing else: a shape-checked ``Document`` or a
one-line ``DocumentError``; a ``Collected`` with at least one platform whose manifest the layout
holds, or a one-line ``ConfigError``/``OperationalError``; a report that passes only when the
fuzzed evidence really carries the provenance (checked independently here), never for a blob whose
bytes were changed; a URL or a ``BadContent``; a reference or a ``ConfigError`` that never repeats a
password.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slsalint.engine import LintOptions, LintRequest, build_target, lint
from slsalint.errors import ConfigError, OperationalError
from slsalint.model import Platform
from slsalint.sources.layout import collect_layout
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import (
    IN_TOTO_LAYER,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Document,
    DocumentError,
    parse_document,
)
from slsalint.sources.reference import parse_reference, redact
from slsalint.sources.registry import BadContent, checked_url, next_link
from tests.support import buildkit as bk

AMD64 = Platform("linux", "amd64")
_PROFILE = settings.default
HEAVY = settings(
    max_examples=max(20, (_PROFILE.max_examples if _PROFILE is not None else 300) // 3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
"""Targets that write a layout per example run a third of the profile's examples."""


@contextmanager
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="slsalint-fuzz-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def one_line(error: BaseException) -> None:
    text = str(error)
    assert text and "\n" not in text and len(text) < 2000, text
    assert "Traceback" not in text


# --- strategies ------------------------------------------------------------------------------------

DIGEST = st.sampled_from(["sha256:" + c * 64 for c in "0123456789abcdef"])
MEDIA_TYPES = st.sampled_from(
    [
        OCI_INDEX,
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        IN_TOTO_LAYER,
        "application/vnd.dsse.envelope.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        "application/vnd.docker.attestation.manifest.v1+json",
        "",
        "text/plain",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | MEDIA_TYPES
    | DIGEST
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
platform_objects: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"os": st.sampled_from(["linux", "unknown", "windows"]) | json_values},
    optional={
        "architecture": st.sampled_from(["amd64", "unknown", "arm64"]) | json_values,
        "variant": json_values,
    },
)
annotation_maps: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.sampled_from(
        ["vnd.docker.reference.type", "vnd.docker.reference.digest", "in-toto.io/predicate-type", "kind", "x"]
    ),
    st.sampled_from(["attestation-manifest", "https://slsa.dev/provenance/v0.2"]) | DIGEST | json_values,
    max_size=3,
)


def descriptors(extra: list[dict[str, Any]] | None = None) -> st.SearchStrategy[Any]:
    """Descriptor-shaped objects (often valid, often not), or the given real descriptors."""
    shaped: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
        {"digest": DIGEST | json_values, "size": st.integers(-2, 5000) | json_values},
        optional={
            "mediaType": MEDIA_TYPES | json_values,
            "annotations": annotation_maps | json_values,
            "platform": platform_objects | json_values,
            "artifactType": MEDIA_TYPES | json_values,
        },
    )
    options: st.SearchStrategy[Any] = shaped | json_values
    if extra:
        options = st.sampled_from(extra) | options
    return options


def documents(extra: list[dict[str, Any]] | None = None) -> st.SearchStrategy[Any]:
    """Manifest- and index-shaped objects with fields of every type."""
    listing = st.lists(descriptors(extra), max_size=4) | json_values
    return (
        st.fixed_dictionaries(
            {},
            optional={
                "schemaVersion": st.just(2) | json_values,
                "mediaType": MEDIA_TYPES | json_values,
                "manifests": listing,
                "layers": listing,
                "config": descriptors(extra),
                "subject": descriptors(extra),
                "artifactType": MEDIA_TYPES | json_values,
                "annotations": annotation_maps | json_values,
            },
        )
        | json_values
    )


def near_valid(kind: str, real: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Well-formed indexes (``kind="index"``) or manifests listing the real descriptors, often with
    one field of another type or an extra fuzzed entry: so that accepting, not only refusing, is
    exercised."""
    entries = st.lists(st.sampled_from(real) | descriptors(), max_size=4)
    listing_key = "manifests" if kind == "index" else "layers"
    media_type = OCI_INDEX if kind == "index" else OCI_MANIFEST
    fields: dict[str, st.SearchStrategy[Any]] = {
        "schemaVersion": st.just(2),
        "mediaType": st.just(media_type),
        listing_key: st.just(list(real)) | st.sampled_from(real).map(lambda d: [d]) | entries,
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "annotations": annotation_maps,
        "artifactType": MEDIA_TYPES,
        "subject": descriptors(real),
    }
    if kind == "manifest":
        optional["config"] = descriptors(real)
    return st.fixed_dictionaries(fields, optional=optional)


# --- documents -------------------------------------------------------------------------------------


def _assert_document(document: Document) -> None:
    assert isinstance(document.media_type, str) and document.media_type
    assert document.is_index == (document.media_type in INDEX_TYPES)
    for item in (*document.layers, *document.manifests, document.config, document.subject):
        if item is None:
            continue
        assert isinstance(item, Descriptor)
        assert isinstance(item.media_type, str) and isinstance(item.size, int) and item.size >= 0
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in item.annotations.items())
    assert not (document.is_index and document.layers)


@given(documents())
def test_parse_document_of_any_shape(value: Any) -> None:
    try:
        document = parse_document(json.dumps(value).encode(), what="doc")
    except DocumentError as exc:
        one_line(exc)
        assert str(exc).startswith("doc")
        event("refused")
        return
    event("index" if document.is_index else "manifest")
    _assert_document(document)


@given(st.binary(max_size=2048))
def test_parse_document_of_any_bytes(data: bytes) -> None:
    try:
        document = parse_document(data, what="doc")
    except DocumentError as exc:
        one_line(exc)
        return
    _assert_document(document)


# --- layouts ---------------------------------------------------------------------------------------


def _layout(path: Path) -> tuple[LayoutWriter, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An attested one-platform image, written except for its index (the caller adds it)."""
    w = LayoutWriter(path)
    image = bk.add_platform_image(w, AMD64, seed="fuzz")
    att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
    manifest = json.loads(w.blob_path(att["digest"]).read_bytes())
    return w, image, att, manifest["layers"][0]


def _collect(target: str) -> Any:
    try:
        collected = collect_layout(target)
    except (ConfigError, OperationalError) as exc:
        one_line(exc)
        event(f"refused: {type(exc).__name__}")
        return None
    assert collected.platforms, "a target with zero platforms was accepted"
    event("collected")
    return collected


@HEAVY
@given(data=st.data())
def test_fuzzed_image_index(data: st.DataObject) -> None:
    """A fuzzed image index (stored under its own digest): never zero platforms, and every platform
    checked is a platform manifest the layout holds."""
    with scratch() as path:
        w, image, att, _ = _layout(path)
        value = data.draw(near_valid("index", [image, att]) | documents([image, att]))
        raw = json.dumps(value).encode()
        w.add_entry({**w.descriptor(raw, OCI_INDEX)}, ref_name="v1")
        w.write_index()
        collected = _collect(f"oci:{path}:v1")
        if collected is None:
            return
        index_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        for digest, _ in collected.platforms:
            if digest == index_digest:
                continue  # a single manifest: the image itself
            child = parse_document(w.blob_path(digest).read_bytes(), what=digest)
            assert not child.is_index
        build_target(collected)


@HEAVY
@given(value=st.binary(max_size=512) | documents().map(lambda v: json.dumps(v).encode()))
def test_fuzzed_index_json(value: bytes) -> None:
    with scratch() as path:
        w, image, att, _ = _layout(path)
        bk.add_index(w, [image, att])
        w.write_index()
        (path / "index.json").write_bytes(value)
        _collect(f"oci:{path}")


@HEAVY
@given(data=st.data())
def test_fuzzed_evidence_manifest(data: st.DataObject) -> None:
    """A fuzzed attestation manifest: the check passes only if it really lists the provenance layer
    (a valid manifest whose layers hold the real in-toto layer descriptor)."""
    with scratch() as path:
        w, image, att, layer = _layout(path)
        value = data.draw(near_valid("manifest", [layer]) | documents([layer]))
        raw = json.dumps(value).encode()
        listed = {**att, "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw)}
        w.add_blob(raw)
        bk.add_index(w, [image, listed])
        w.write_index()
        try:
            report = lint([LintRequest(target=f"oci:{path}")], LintOptions())
        except (ConfigError, OperationalError) as exc:
            one_line(exc)
            event(f"refused: {type(exc).__name__}")
            return
        event(f"exit {report.exit_code}")
        if report.exit_code != 0:
            return
        document = parse_document(raw, what="fuzzed")  # a pass needs a valid manifest...
        assert not document.is_index
        assert any(  # ... that lists the real provenance layer
            d.digest == layer["digest"] and d.size == layer["size"] and d.media_type == IN_TOTO_LAYER
            for d in document.layers
        ), value


@HEAVY
@given(which=st.sampled_from(["index", "platform", "attestation", "layer"]), data=st.binary(max_size=256))
def test_changed_bytes_never_pass(which: str, data: bytes) -> None:
    """Any blob the check reads, replaced by other bytes: exit 3 or a finding, never a pass."""
    with scratch() as path:
        w, image, att, layer = _layout(path)
        index = bk.add_index(w, [image, att])
        w.write_index()
        victim = {"index": index, "platform": image, "attestation": att, "layer": layer}[which]
        blob = w.blob_path(victim["digest"])
        if blob.read_bytes() == data:
            return
        blob.write_bytes(data)
        try:
            report = lint([LintRequest(target=f"oci:{path}")], LintOptions())
        except (ConfigError, OperationalError) as exc:
            one_line(exc)
            return
        assert report.exit_code != 0, f"{which} replaced by {data!r} passed"


# --- registry answers ------------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_link_headers(header: str) -> None:
    link = next_link(header)
    if link is None:
        return
    try:
        url = checked_url("http://127.0.0.1:5000/v2/app/referrers/x", link, "referrers")
    except BadContent as exc:
        one_line(exc)
        return
    assert url.startswith(("http://", "https://"))


secrets = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.!$", min_size=6, max_size=16)


@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
    secret=secrets,
    rest=st.sampled_from(["ghcr.io/a/b:v1", "127.0.0.1:5000/app", "x/y@sha256:" + "a" * 64, "h/r:t", ""]),
)
def test_references_never_repeat_a_password(user: str, secret: str, rest: str) -> None:
    text = f"{user}:{secret}@{rest}"
    try:
        parse_reference(text)
    except ConfigError as exc:
        one_line(exc)
        assert secret not in str(exc)
    else:
        raise AssertionError(f"{text!r} was accepted as a reference")
    assert secret not in redact(f"error: cannot use https://{user}:{secret}@{rest or 'host'}/x")
