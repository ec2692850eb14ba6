"""Fault catalogue: registries. Every row pushes its image to the real CNCF distribution registry
(Debian's ``docker-registry``), puts the loopback fault/auth proxy in front where the fault needs it
(``tests/support/proxy.py``: stalls, drips, 429 storms, short bodies, bad ``Link`` and ``Location``
URLs, documents a registry refuses to store, token services), runs ``slsalint`` as a user does and
asserts the exit code and the first line of stderr, or the finding.

Exit 3 is a fault while reading (retryable), SL105 (exit 1) evidence bytes that arrived broken,
exit 2 a reference that names no image to check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import buildkit as bk
from tests.support.images import AMD64, add_cosign_signature, build
from tests.support.proxy import Fault as ProxyFault
from tests.support.proxy import ProxyState, proxy
from tests.support.registry import Registry, running_registry

pytestmark = pytest.mark.registry

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
UNKNOWN = Platform("unknown", "unknown")
QUICK = ["--limit", "read-timeout=1", "--limit", "request-timeout=2", "--limit", "retry-timeout=4"]
"""Small limits, so rows about giving up take seconds (the defaults are tested in tests/registry)."""


@dataclass
class Env:
    registry: Registry
    tmp: Path
    stack: ExitStack
    name: str
    env: dict[str, str]

    @property
    def repo(self) -> str:
        return f"faults/{self.name}"

    def proxy(self, **options: Any) -> tuple[str, ProxyState]:
        return self.stack.enter_context(proxy(self.registry.base, **options))

    def push(self, writer: LayoutWriter) -> None:
        writer.write_index()
        self.registry.push_layout(writer.path, self.repo)

    def writer(self) -> LayoutWriter:
        return LayoutWriter(self.tmp / "layout")

    def image(self, **kw: Any) -> tuple[dict[str, Any], dict[Platform, dict[str, Any]]]:
        """A pushed one-platform image with provenance (tag v1.0.0)."""
        layout, index, platforms = build(self.tmp, attest={AMD64: []}, **kw)
        self.registry.push_layout(layout, self.repo)
        return index, platforms


@dataclass(frozen=True)
class Row:
    fault: Fault
    setup: Callable[[Env], list[str]]
    absent: str | None = None
    """Text that must appear nowhere in the output (a secret)."""


def doc(value: Any) -> bytes:
    return json.dumps(value).encode()


def descriptor(data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
        **extra,
    }


def served_index(e: Env, index: dict[str, Any] | bytes, *documents: bytes, **options: Any) -> str:
    """A proxy answering tag v1.0.0 with ``index`` (and ``documents`` by digest); its host."""
    body = index if isinstance(index, bytes) else doc(index)
    served = {"v1.0.0": (body, OCI_INDEX)}
    for data in documents:
        served[descriptor(data, OCI_MANIFEST)["digest"]] = (data, OCI_MANIFEST)
    host, _ = e.proxy(documents=served, **options)
    return host


def check(ref: str, *extra: str) -> list[str]:
    return ["check", ref, "--no-cache", *extra]


def check_json(ref: str, *extra: str) -> list[str]:
    return ["check", ref, "--no-cache", "--format", "json", *extra]


# --- targets with nothing to judge -----------------------------------------------------------------


def empty_index(e: Env) -> list[str]:
    host = served_index(e, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    return check(f"{host}/{e.repo}:v1.0.0")


def only_attestation_manifests(e: Env) -> list[str]:
    w = e.writer()
    image = bk.add_platform_image(w, AMD64, seed=e.name)
    att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
    bk.add_index(w, [image, att])
    e.push(w)
    host = served_index(e, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [att]})
    return check(f"{host}/{e.repo}:v1.0.0")


def only_unknown_platforms(e: Env) -> list[str]:
    w = e.writer()
    children = [bk.add_platform_image(w, UNKNOWN, seed=f"{e.name}-{i}") for i in range(2)]
    bk.add_index(w, children)
    e.push(w)
    return check(e.registry.ref(e.repo, "v1.0.0"))


def nested_index_with_nothing(e: Env) -> list[str]:
    inner = doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    outer = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(inner, OCI_INDEX)]}
    host, _ = e.proxy(
        documents={
            "v1.0.0": (doc(outer), OCI_INDEX),
            descriptor(inner, OCI_INDEX)["digest"]: (inner, OCI_INDEX),
        }
    )
    return check(f"{host}/{e.repo}:v1.0.0")


def nested_too_deep(e: Env) -> list[str]:
    documents: dict[str, tuple[bytes, str]] = {}
    level = doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    for _ in range(6):
        documents[descriptor(level, OCI_INDEX)["digest"]] = (level, OCI_INDEX)
        level = doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(level, OCI_INDEX)]})
    documents["v1.0.0"] = (level, OCI_INDEX)
    host, _ = e.proxy(documents=documents)
    return check(f"{host}/{e.repo}:v1.0.0")


def platform_manifest_missing(e: Env) -> list[str]:
    _, platforms = e.image()
    listed = dict(platforms[AMD64])
    listed["digest"] = "sha256:" + "0" * 64
    body = doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [listed]})
    return check(f"{served_index(e, body)}/{e.repo}:v1.0.0")


def platform_manifest_is_an_index(e: Env) -> list[str]:
    inner = doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    child = descriptor(inner, OCI_MANIFEST, platform={"os": "linux", "architecture": "amd64"})
    host, _ = e.proxy(
        documents={
            "v1.0.0": (doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child]}), OCI_INDEX),
            child["digest"]: (inner, OCI_INDEX),
        }
    )
    return check(f"{host}/{e.repo}:v1.0.0")


# --- documents of the wrong shape ------------------------------------------------------------------


def index_json(value: Any) -> Callable[[Env], list[str]]:
    def setup(e: Env) -> list[str]:
        body = value if isinstance(value, bytes) else doc(value)
        return check(f"{served_index(e, body)}/{e.repo}:v1.0.0")

    return setup


def deep(levels: int) -> bytes:
    return b'{"schemaVersion": 2, "manifests": ' + b"[" * levels + b"]" * levels + b"}"


def evidence_manifest(mutate: Callable[[dict[str, Any]], None]) -> Callable[[Env], list[str]]:
    """The image's attestation manifest replaced by a mutated copy (served under its own digest)."""

    def setup(e: Env) -> list[str]:
        w = e.writer()
        image = bk.add_platform_image(w, AMD64, seed=e.name)
        att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
        manifest = json.loads(w.blob_path(att["digest"]).read_bytes())
        mutate(manifest)
        bad = doc(manifest)
        listed = {**att, "digest": descriptor(bad, OCI_MANIFEST)["digest"], "size": len(bad)}
        bk.add_index(w, [image, att])
        e.push(w)
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [image, listed]}
        return check_json(f"{served_index(e, index, bad)}/{e.repo}:v1.0.0")

    return setup


def referrers_answer(body: bytes) -> Callable[[Env], list[str]]:
    def setup(e: Env) -> list[str]:
        _, platforms = e.image()
        digest = platforms[AMD64]["digest"]
        host, _ = e.proxy(referrers_api=True, documents={f"referrers/{digest}": (body, OCI_INDEX)})
        return check_json(f"{host}/{e.repo}:v1.0.0")

    return setup


def bad_link_header(e: Env) -> list[str]:
    e.image()
    fault = ProxyFault("/referrers/", "headers", headers={"Link": '<http://[bad>; rel="next"'}, times=99)
    host, _ = e.proxy(referrers_api=True, faults=[fault])
    return check_json(f"{host}/{e.repo}:v1.0.0")


def too_many_referrer_pages(e: Env) -> list[str]:
    w = e.writer()
    image = bk.add_platform_image(w, AMD64, seed=e.name)
    w.add_entry(image, ref_name="v1.0.0")
    e.push(w)
    for n in range(3):  # three referrers, so a page size of one makes three pages
        sig = LayoutWriter(e.tmp / f"ref{n}")
        layer = sig.descriptor(f"note {n}".encode(), "text/plain")
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.note",
            "config": sig.descriptor(b"{}", "application/vnd.oci.empty.v1+json"),
            "layers": [layer],
            "subject": {"mediaType": OCI_MANIFEST, "digest": image["digest"], "size": image["size"]},
        }
        data = sig.json_bytes(manifest)
        sig.add_blob(data)
        sig.write_index()
        e.registry.push_layout(sig.path, e.repo)
        e.registry.push_manifest(e.repo, data, OCI_MANIFEST, f"note{n}")
    host, _ = e.proxy(referrers_api=True, page_size=1)
    return check_json(f"{host}/{e.repo}:v1.0.0", "--limit", "referrer-pages=2")


# --- the network ------------------------------------------------------------------------------------


def faulted(fault: ProxyFault, *extra: str, json_report: bool = False) -> Callable[[Env], list[str]]:
    def setup(e: Env) -> list[str]:
        e.image()
        host, _ = e.proxy(faults=[fault])
        ref = f"{host}/{e.repo}:v1.0.0"
        return check_json(ref, *extra) if json_report else check(ref, *extra)

    return setup


def run_timeout(e: Env) -> list[str]:
    e.image()
    host, _ = e.proxy(latency=0.6)
    return check(f"{host}/{e.repo}:v1.0.0", "--timeout", "1")


def fetch_with_evidence_fault(e: Env) -> list[str]:
    e.image()
    host, _ = e.proxy(faults=[ProxyFault("/blobs/", "status", status=503, times=99)])
    return ["fetch", f"{host}/{e.repo}:v1.0.0", "-o", str(e.tmp / "snapshot"), "--no-cache", *QUICK]


# --- credentials and tokens -------------------------------------------------------------------------


def docker_config(e: Env, auths: dict[str, Any]) -> None:
    config = e.tmp / "docker"
    config.mkdir(exist_ok=True)
    (config / "config.json").write_text(json.dumps({"auths": auths}))
    e.env["DOCKER_CONFIG"] = str(config)


def wrong_identity_token(e: Env) -> list[str]:
    e.image()
    host, _ = e.proxy(token="access", refresh_tokens={"the-right-one"})
    docker_config(e, {host: {"identitytoken": "a-wrong-refresh-token"}})
    return check(f"{host}/{e.repo}:v1.0.0")


def foreign_token_realm(e: Env) -> list[str]:
    e.image()
    auth_host, _ = e.proxy(token="t", users={"alice": "s3cret-pw"})
    realm = f"http://localhost:{auth_host.rsplit(':', 1)[1]}/token"
    host, _ = e.proxy(token="t", realm=realm)
    docker_config(e, {host: {"auth": base64.b64encode(b"alice:s3cret-pw").decode()}})
    return check(f"{host}/{e.repo}:v1.0.0")


def malformed_token_realm(e: Env) -> list[str]:
    e.image()
    host, _ = e.proxy(token="t", realm="http://[bad")
    return check(f"{host}/{e.repo}:v1.0.0")


def credentials_in_reference(e: Env) -> list[str]:
    return check(f"alice:s3cret-pw@{e.registry.host}/{e.repo}:v1.0.0")


# --- references that name no image ------------------------------------------------------------------


def attestation_manifest_by_digest(e: Env) -> list[str]:
    w = e.writer()
    image = bk.add_platform_image(w, AMD64, seed=e.name)
    att = bk.add_attestation_manifest(w, image, [bk.buildkit_v02_statement(image["digest"])])
    index = bk.add_index(w, [image, att])
    e.push(w)
    e.env["EXPECT_IMAGE"] = index["digest"]
    return check(e.registry.ref(e.repo, digest=att["digest"]))


def signature_by_digest(e: Env) -> list[str]:
    index, _ = e.image()
    w = LayoutWriter(e.tmp / "sig")
    tag = add_cosign_signature(w, index["digest"])
    w.write_index()
    e.registry.push_layout(w.path, e.repo)
    sig_digest = next(x["digest"] for x in json.loads((w.path / "index.json").read_bytes())["manifests"])
    del tag
    e.env["EXPECT_IMAGE"] = index["digest"]
    return check(e.registry.ref(e.repo, digest=sig_digest))


def _not_list(m: dict[str, Any]) -> None:
    m["layers"] = {"0": m["layers"][0]}


def _media_type_list(m: dict[str, Any]) -> None:
    m["layers"][0]["mediaType"] = ["application/vnd.in-toto+json"]


def _annotation_number(m: dict[str, Any]) -> None:
    m["layers"][0]["annotations"] = {"in-toto.io/predicate-type": 2}


def _schema_one(m: dict[str, Any]) -> None:
    m["schemaVersion"] = 1


ROWS: list[Row] = [
    # Nothing to judge is never a pass.
    Row(
        Fault("empty-index", 3, r"lists no platform image to check \(its manifests list is empty\)"),
        empty_index,
    ),
    Row(
        Fault(
            "only-attestation-manifests", 3, r"lists no platform image to check \(it lists only 1 attestation"
        ),
        only_attestation_manifests,
    ),
    Row(
        Fault(
            "only-unknown-platforms", 3, r"it lists only 2 unknown/unknown manifests\); nothing can be judged"
        ),
        only_unknown_platforms,
    ),
    Row(Fault("nested-index-with-nothing", 3, r"it lists only 1 nested index\)"), nested_index_with_nothing),
    Row(Fault("nested-too-deep", 3, r"image indexes nested more than 4 levels deep"), nested_too_deep),
    Row(
        Fault(
            "platform-manifest-missing",
            3,
            r"platform manifest sha256:0+ \(linux/amd64\) is missing from the registry \(HTTP 404\)",
        ),
        platform_manifest_missing,
    ),
    Row(
        Fault("platform-manifest-is-an-index", 3, r"is an image index, but the index lists it as a platform"),
        platform_manifest_is_an_index,
    ),
    # Documents of the wrong shape: one line, never a crash.
    Row(
        Fault("index-mediatype-number", 3, r"'mediaType' is a number, not a string"),
        index_json({"schemaVersion": 2, "mediaType": 5, "manifests": []}),
    ),
    Row(
        Fault("index-manifests-object", 3, r"the index's 'manifests' is an object, not a list"),
        index_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": {}}),
    ),
    Row(
        Fault("index-descriptor-size-string", 3, r"descriptor sha256:[0-9a-f]{64} has no valid size"),
        index_json(
            {
                "schemaVersion": 2,
                "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": "9"}],
            }
        ),
    ),
    Row(
        Fault("index-platform-os-list", 3, r"'platform.os' is a list, not a string"),
        index_json(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": "sha256:" + "1" * 64,
                        "size": 9,
                        "platform": {"os": ["linux"], "architecture": "amd64"},
                    }
                ],
            }
        ),
    ),
    Row(Fault("index-deep-nesting", 3, r"nested more than 64 levels deep"), index_json(deep(2000))),
    Row(
        Fault("index-5000-digit-integer", 3, r"integer of 5000 digits is too long"),
        index_json(b'{"schemaVersion": 2, "manifests": [], "x": ' + b"9" * 5000 + b"}"),
    ),
    Row(
        Fault("index-schema-version-1", 3, r"schemaVersion 1 is not supported"),
        index_json({"schemaVersion": 1, "name": "x", "fsLayers": []}),
    ),
    Row(
        Fault("index-nan", 3, r"NaN is not a JSON number"),
        index_json(b'{"schemaVersion": 2, "manifests": [], "x": NaN}'),
    ),
    Row(
        Fault("evidence-layers-not-a-list", 1, finding="SL105", message=r"'layers' is an object, not a list"),
        evidence_manifest(_not_list),
    ),
    Row(
        Fault(
            "evidence-layer-mediatype-list",
            1,
            finding="SL105",
            message=r"'mediaType' is a list, not a string",
        ),
        evidence_manifest(_media_type_list),
    ),
    Row(
        Fault(
            "evidence-annotation-number",
            1,
            finding="SL105",
            message=r"annotation 'in-toto.io/predicate-type' is a number",
        ),
        evidence_manifest(_annotation_number),
    ),
    Row(
        Fault("evidence-schema-version-1", 1, finding="SL105", message=r"schemaVersion 1 is not supported"),
        evidence_manifest(_schema_one),
    ),
    Row(
        Fault(
            "referrers-entries-strings", 1, finding="SL105", message=r"descriptor is a string, not an object"
        ),
        referrers_answer(
            doc({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": ["sha256:" + "1" * 64]})
        ),
    ),
    Row(
        Fault("referrers-deep-nesting", 1, finding="SL105", message=r"nested more than 64 levels deep"),
        referrers_answer(deep(500)),
    ),
    Row(
        Fault("referrers-not-json", 1, finding="SL105", message=r"the referrers answer: not valid JSON"),
        referrers_answer(b"<html>busy</html>"),
    ),
    Row(
        Fault(
            "link-header-bad-url", 1, finding="SL105", message=r"Link header: malformed URL 'http://\[bad'"
        ),
        bad_link_header,
    ),
    Row(
        Fault(
            "referrers-too-many-pages",
            1,
            finding="SL105",
            message=r"more than 2 pages \(--limit referrer-pages\)",
        ),
        too_many_referrer_pages,
    ),
    # The network: faults while reading are exit 3, whatever is being read.
    Row(
        Fault("redirect-bad-url", 3, r"redirect: malformed URL 'http://\[bad'"),
        faulted(ProxyFault("/manifests/v1.0.0", "redirect", location="http://[bad", times=99)),
    ),
    Row(
        Fault("drip-one-byte-a-second", 3, r"timed out talking to .* for /manifests/v1.0.0; gave up after"),
        faulted(ProxyFault("/manifests/v1.0.0", "drip", seconds=1.0, times=99), *QUICK),
    ),
    Row(
        Fault("stalled-registry", 3, r"timed out talking to .* for /manifests/v1.0.0"),
        faulted(ProxyFault("/manifests/v1.0.0", "delay", seconds=30, times=99), *QUICK),
    ),
    Row(Fault("run-timeout", 3, r"the run's --timeout of 1 s"), run_timeout),
    Row(
        Fault(
            "429-storm",
            3,
            r"rate limited by .*, which asks to wait 1 s; gave up after 3 attempts .*--limit retries=2",
        ),
        faulted(
            ProxyFault("/manifests/v1.0.0", "status", status=429, headers={"Retry-After": "1"}, times=99),
            "--limit",
            "retries=2",
        ),
    ),
    Row(
        Fault(
            "429-retry-after-an-hour",
            3,
            r"which asks to wait 3600 s; gave up after 1 attempt: waits over 30 s",
        ),
        faulted(
            ProxyFault("/manifests/v1.0.0", "status", status=429, headers={"Retry-After": "3600"}, times=99)
        ),
    ),
    Row(
        Fault("5xx-storm-on-evidence", 3, r"HTTP 503 from .* for /blobs/sha256:"),
        faulted(ProxyFault("/blobs/", "status", status=503, times=99), *QUICK),
    ),
    Row(
        Fault(
            "connection-cut-on-evidence",
            3,
            r"transfer of /blobs/sha256:[0-9a-f]+ from .* failed: peer closed connection",
        ),
        faulted(ProxyFault("/blobs/", "truncate", times=99), *QUICK),
    ),
    Row(
        Fault(
            "short-content-length-on-evidence",
            3,
            r"failed: short Content-Length: the answer announces \d+ bytes",
        ),
        faulted(ProxyFault("/blobs/", "short-length", status=10, times=99), *QUICK),
    ),
    Row(
        Fault("short-content-length-on-tag", 3, r"manifest digest mismatch: .*cut short\?\)"),
        faulted(ProxyFault("/manifests/v1.0.0", "short-length", status=10, times=99), *QUICK),
    ),
    Row(
        Fault("evidence-digest-mismatch", 1, finding="SL105", message=r"digest mismatch: content hashes to"),
        faulted(ProxyFault("/blobs/", "corrupt", times=99), json_report=True),
    ),
    Row(
        Fault("manifest-over-size-limit", 3, r"over the 100-byte limit"),
        faulted(ProxyFault("/nothing", "status"), "--limit", "manifest-size=100"),
    ),
    Row(
        Fault("fetch-with-evidence-fault", 3, r"HTTP 503 from .* for /blobs/sha256:"),
        fetch_with_evidence_fault,
    ),
    # Credentials: never where they do not belong.
    Row(
        Fault("wrong-identity-token", 3, r"token service refused access with the configured credentials"),
        wrong_identity_token,
        absent="a-wrong-refresh-token",
    ),
    Row(
        Fault("basic-credentials-withheld-from-another-host", 3, r"were not sent to localhost, another host"),
        foreign_token_realm,
        absent="s3cret-pw",
    ),
    Row(
        Fault("token-realm-malformed-url", 3, r"token realm: malformed URL 'http://\[bad'"),
        malformed_token_realm,
    ),
    Row(
        Fault(
            "credentials-in-reference",
            2,
            r"^slsalint: error: \*\*\*@127\.0\.0\.1:\d+/faults/.*cannot carry credentials",
        ),
        credentials_in_reference,
        absent="s3cret-pw",
    ),
    # References that name no image.
    Row(
        Fault(
            "attestation-manifest-by-digest",
            2,
            r"is a BuildKit attestation manifest, not an image; check the image it belongs to: .*@sha256:",
        ),
        attestation_manifest_by_digest,
    ),
    Row(
        Fault(
            "signature-by-digest",
            2,
            r"is a cosign signature artifact, not an image; check the image it belongs to: .*@sha256:",
        ),
        signature_by_digest,
    ),
    Row(
        Fault(
            "image-name-on-a-registry-reference", 2, r"--image-name names the image of one oci: layout TARGET"
        ),
        lambda e: check(e.registry.ref(e.repo, "v1.0.0"), "--image-name", "example.com/app:v1"),
    ),
    Row(
        Fault("unknown-limit", 2, r"--limit speed=9: unknown limit 'speed'"),
        lambda e: check(e.registry.ref(e.repo, "v1.0.0"), "--limit", "speed=9"),
    ),
    Row(
        Fault("negative-timeout", 2, r"--timeout -1.0: expected seconds"),
        lambda e: check(e.registry.ref(e.repo, "v1.0.0"), "--timeout", "-1"),
    ),
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (make test installs the Debian package)")
    with running_registry(tmp_path_factory.mktemp("fault-registry")) as started:
        yield started


@pytest.mark.parametrize("row", ROWS, ids=ids([r.fault for r in ROWS]))
def test_registry_fault(row: Row, registry: Registry, tmp_path: Path) -> None:
    with ExitStack() as stack:
        env = Env(registry, tmp_path, stack, row.fault.name, {})
        args = row.setup(env)
        expect_image = env.env.pop("EXPECT_IMAGE", None)
        outcome = run(*args, cwd=tmp_path, env=env.env, timeout=120)
    assert_fault(row.fault, outcome)
    if expect_image is not None:
        assert outcome.first_line.endswith(expect_image), outcome.first_line
    if row.absent is not None:
        assert row.absent not in outcome.stderr + outcome.stdout


def test_rows_are_unique() -> None:
    names = ids([r.fault for r in ROWS])
    assert len(names) == len(set(names))
