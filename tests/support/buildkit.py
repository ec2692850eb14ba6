"""Deterministic builders for content shaped like what BuildKit, buildx and cosign produce.

The shapes follow the real files in the shared corpus (``oci-layouts/``, ``buildkit/``,
``cosign-v3-referrers/``): SLSA v0.2 and v1 statements in ``mode=min`` and ``mode=max``, SPDX SBOM
statements, classic and artifact-form attestation manifests, image indexes and cosign ``.att``
manifests. Everything is derived from the arguments (no clocks, no randomness), so the same calls
write the same bytes.

Typical use::

    w = LayoutWriter(path)
    image = add_platform_image(w, Platform("linux", "amd64"), seed="app")
    att = add_attestation_manifest(w, image, [buildkit_v02_statement(image["digest"])])
    add_index(w, [image, att], ref_name="v1.0.0")
    w.write_index()
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import tarfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import (
    BUILDKIT_ATTESTATION_ARTIFACT,
    COSIGN_ATTS_KIND,
    COSIGN_KIND,
    DSSE_LAYER,
    IN_TOTO_LAYER,
    OCI_INDEX,
    OCI_MANIFEST,
    PREDICATE_TYPE_ANNOTATION,
    REFERENCE_DIGEST,
    REFERENCE_TYPE,
)

STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SPDX_DOCUMENT = "https://spdx.dev/Document"
BUILDKIT_V02_BUILD_TYPE = "https://mobyproject.org/buildkit@v1"
BUILDKIT_V1_BUILD_TYPE = "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md"
BUILDKIT_METADATA = "https://mobyproject.org/buildkit@v1#metadata"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"

COMMIT = "c3a1f0e5d2b94c7a8e6f1d0b9a2c4e6f8a0b1c3d"
REPOSITORY = "https://github.com/example/app"
DEFAULT_NAME = "pkg:docker/example.com/demo/app@v1.0.0?platform=linux%2Famd64"
DEFAULT_BUILDER = "https://github.com/example/app/actions/runs/1"
DEFAULT_SOURCE_URI = f"{REPOSITORY}.git#{COMMIT}"
"""The default ``source_uri``; when left as is it follows ``commit`` (no ``#rev`` if commit is None)."""

STARTED_ON = "2025-03-04T09:15:02.318004911Z"
FINISHED_ON = "2025-03-04T09:15:41.902117653Z"
CREATED = "2025-03-04T09:15:40.116284730Z"
ZERO_TIME = "0001-01-01T00:00:00Z"

GOLANG = "docker.io/library/golang:1.22"
DISTROLESS = "gcr.io/distroless/static-debian12"

_EXTRA_RUNS = (
    "go vet ./...",
    "go test -count=1 -short ./internal/...",
    "apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata",
    "go generate ./...",
    "go run ./tools/licenses -o /out/THIRD_PARTY_NOTICES",
    "golangci-lint run --timeout 5m ./...",
    "go build -trimpath -o /out/healthcheck ./cmd/healthcheck",
    "make -C /src docs VERSION=v1.0.0",
)


def fake_hex(*parts: str) -> str:
    """A stable 64-hex-digit value derived from ``parts`` (for digests that name nothing real)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _hex_of(digest: str) -> str:
    return digest.split(":", 1)[1] if ":" in digest else digest


def statement_bytes(statement: dict[str, Any]) -> bytes:
    """Compact JSON, the way BuildKit stores in-toto statements in attestation layers."""
    return json.dumps(statement, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _platform_of(name: str) -> str:
    query = parse_qs(urlsplit(name).query)
    values = query.get("platform")
    return values[0] if values else "linux/amd64"


def _llb_platform(platform: str) -> dict[str, str]:
    parts = platform.split("/")
    out = {"Architecture": parts[1] if len(parts) > 1 else "amd64", "OS": parts[0]}
    if len(parts) > 2:
        out["Variant"] = parts[2]
    return out


def _base_digest(image: str, platform: str) -> str:
    return fake_hex("base-image", image, platform)


def buildkit_materials(
    platform: str = "linux/amd64", *, source_uri: str | None = DEFAULT_SOURCE_URI, commit: str | None = COMMIT
) -> list[dict[str, Any]]:
    """The materials BuildKit records: both base images pinned by digest, and the git source."""
    quoted = platform.replace("/", "%2F")
    out: list[dict[str, Any]] = []
    for image in (GOLANG, DISTROLESS):
        short = image.removeprefix("docker.io/library/")
        repo, _, tag = short.partition(":")
        ref = f"{repo}@{tag}" if tag else repo
        hexpart = _base_digest(image, platform)
        out.append(
            {
                "uri": f"pkg:docker/{ref}?digest=sha256:{hexpart}&platform={quoted}",
                "digest": {"sha256": hexpart},
            }
        )
    if source_uri is not None:
        material: dict[str, Any] = {"uri": source_uri}
        if commit:
            material["digest"] = {"sha1": commit}
        out.append(material)
    return out


def _resolve_source(source_uri: str | None, commit: str | None) -> str | None:
    if source_uri == DEFAULT_SOURCE_URI:
        return f"{REPOSITORY}.git#{commit}" if commit else f"{REPOSITORY}.git"
    return source_uri


def _default_args(commit: str | None) -> dict[str, str]:
    args = {
        "label:org.opencontainers.image.created": "2025-03-04T09:14:58.512Z",
        "label:org.opencontainers.image.licenses": "Apache-2.0",
        "label:org.opencontainers.image.source": REPOSITORY,
        "label:org.opencontainers.image.title": "app",
        "label:org.opencontainers.image.version": "v1.0.0",
    }
    if commit:
        args["label:org.opencontainers.image.revision"] = commit
    return args


class _Llb:
    """A BuildKit LLB definition in the JSON form provenance records it in."""

    def __init__(self, platform: str, seed: str) -> None:
        self.platform = _llb_platform(platform)
        self.seed = seed
        self.steps: list[dict[str, Any]] = []
        self.lines: dict[str, int] = {}

    def add(self, op: Any, inputs: list[str], *, platform: bool = False, line: int | None = None) -> str:
        step_id = f"step{len(self.steps)}"
        entry: dict[str, Any] = {"id": step_id, "op": {"Op": op}}
        if op is not None:
            if platform:
                entry["op"]["platform"] = dict(self.platform)
            entry["op"]["constraints"] = {}
        if inputs:
            entry["inputs"] = inputs
        self.steps.append(entry)
        if line is not None:
            self.lines[step_id] = line
        return step_id

    def digest_mapping(self) -> dict[str, str]:
        mapping = {f"sha256:{fake_hex('llb', self.seed, s['id'])}": str(s["id"]) for s in self.steps}
        return dict(sorted(mapping.items()))

    def locations(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in self.steps[:-1]:
            line = self.lines.get(step["id"])
            if line is None:
                out[step["id"]] = {}
                continue
            out[step["id"]] = {"locations": [{"ranges": [{"start": {"line": line}, "end": {"line": line}}]}]}
        return out


def _exec(command: str, *, cwd: str = "/src", caches: bool = True) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [{"input": 0, "dest": "/", "output": 0}]
    if caches:
        for dest in ("/go/pkg/mod", "/root/.cache/go-build"):
            mounts.append({"input": -1, "dest": dest, "output": -1, "mountType": 3, "cacheOpt": {"ID": dest}})
    return {
        "exec": {
            "meta": {
                "args": ["/bin/sh", "-c", command],
                "env": [
                    "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "GOLANG_VERSION=1.22.12",
                    "GOPATH=/go",
                    "CGO_ENABLED=0",
                ],
                "cwd": cwd,
                "removeMountStubsRecursive": True,
            },
            "mounts": mounts,
        }
    }


def _copy(src: str, dest: str, *, secondary: int = 1) -> dict[str, Any]:
    return {
        "file": {
            "actions": [
                {
                    "input": 0,
                    "secondaryInput": secondary,
                    "output": 0,
                    "Action": {
                        "copy": {
                            "src": src,
                            "dest": dest,
                            "mode": -1,
                            "followSymlink": True,
                            "dirCopyContents": True,
                            "createDestPath": True,
                            "allowWildcard": True,
                            "allowEmptyWildcard": True,
                            "timestamp": -1,
                        }
                    },
                }
            ]
        }
    }


def _build_definition(
    platform: str, seed: str, source_uri: str | None, commit: str | None, extra_steps: int
) -> tuple[_Llb, str]:
    """The LLB of a two-stage Go Dockerfile (plus ``extra_steps`` RUN steps) and that Dockerfile."""
    runs = [_EXTRA_RUNS[i % len(_EXTRA_RUNS)] for i in range(extra_steps)]
    dockerfile = [
        "FROM golang:1.22 AS builder",
        "WORKDIR /src",
        "COPY go.mod go.sum ./",
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download",
        "COPY . .",
        *[f"RUN --mount=type=cache,target=/root/.cache/go-build {run}" for run in runs],
        'RUN --mount=type=cache,target=/root/.cache/go-build go build -trimpath -ldflags="-s -w" '
        "-o /out/app ./cmd/app",
        "",
        "FROM gcr.io/distroless/static-debian12",
        "COPY --from=builder /out/app /app",
        'ENTRYPOINT ["/app"]',
    ]
    llb = _Llb(platform, seed)
    final_from = 9 + len(runs)
    base = llb.add(
        {
            "source": {
                "identifier": f"docker-image://{DISTROLESS}@sha256:{_base_digest(DISTROLESS, platform)}"
            }
        },
        [],
        platform=True,
        line=final_from,
    )
    golang = llb.add(
        {"source": {"identifier": f"docker-image://{GOLANG}@sha256:{_base_digest(GOLANG, platform)}"}},
        [],
        platform=True,
        line=1,
    )
    workdir = llb.add(
        {
            "file": {
                "actions": [
                    {
                        "input": 0,
                        "secondaryInput": -1,
                        "output": 0,
                        "Action": {
                            "mkdir": {"path": "/src", "mode": 493, "makeParents": True, "timestamp": -1}
                        },
                    }
                ]
            }
        },
        [f"{golang}:0"],
        line=2,
    )
    if source_uri:
        repo = source_uri.split("#", 1)[0]
        identifier = "git://" + repo.split("://", 1)[-1] + (f"#{commit}" if commit else "")
        context = llb.add(
            {
                "source": {
                    "identifier": identifier,
                    "attrs": {
                        "git.authheadersecret": "GIT_AUTH_HEADER",
                        "git.authtokensecret": "GIT_AUTH_TOKEN",
                        "git.fullurl": repo,
                    },
                }
            },
            [],
        )
    else:
        context = llb.add(
            {"source": {"identifier": "local://context", "attrs": {"local.sharedkeyhint": "context"}}}, []
        )
    mods = llb.add(_copy("/go.mod", "/src/"), [f"{workdir}:0", f"{context}:0"], line=3)
    download = llb.add(_exec("go mod download"), [f"{mods}:0"], platform=True, line=4)
    current = llb.add(_copy("/", "/src/"), [f"{download}:0", f"{context}:0"], line=5)
    for i, run in enumerate(runs):
        current = llb.add(_exec(run), [f"{current}:0"], platform=True, line=6 + i)
    build = llb.add(
        _exec('go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/app'),
        [f"{current}:0"],
        platform=True,
        line=6 + len(runs),
    )
    final = llb.add(_copy("/out/app", "/app"), [f"{base}:0", f"{build}:0"], line=final_from + 1)
    llb.add(None, [f"{final}:0"])
    return llb, "\n".join(dockerfile) + "\n"


def _buildkit_metadata(
    llb: _Llb, dockerfile: str, platform: str, source_uri: str | None, commit: str | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "source": {
            "locations": llb.locations(),
            "infos": [
                {
                    "filename": "Dockerfile",
                    "language": "Dockerfile",
                    "data": base64.b64encode(dockerfile.encode()).decode(),
                }
            ],
        },
        "layers": {
            "step0:0": [
                [
                    {
                        "mediaType": OCI_LAYER_GZIP,
                        "digest": f"sha256:{fake_hex('layer', DISTROLESS, platform, str(i))}",
                        "size": size,
                    }
                    for i, size in enumerate((104238, 13356, 541994))
                ]
            ]
        },
    }
    if source_uri:
        metadata["vcs"] = {"source": source_uri.split("#", 1)[0], "localdir:context": "."}
        if commit:
            metadata["vcs"]["revision"] = commit
    return metadata


def _padded(build: Any, pad_to: int | None) -> dict[str, Any]:
    """Call ``build(extra_steps)`` with enough extra LLB steps to reach about ``pad_to`` bytes."""
    statement: dict[str, Any] = build(0)
    if not pad_to:
        return statement
    size = len(statement_bytes(statement))
    if size >= pad_to:
        return statement
    one = len(statement_bytes(build(1))) - size
    extra = max(1, math.ceil((pad_to - size) / max(one, 1)))
    statement = build(extra)
    while len(statement_bytes(statement)) < pad_to:
        extra += 1
        statement = build(extra)
    return statement


def _subject(name: str, subject_digest: str) -> list[dict[str, Any]]:
    return [{"name": name, "digest": {"sha256": _hex_of(subject_digest)}}]


def buildkit_v02_statement(
    subject_digest: str,
    *,
    name: str = DEFAULT_NAME,
    mode: str = "max",
    builder_id: str = DEFAULT_BUILDER,
    args: dict[str, str] | None = None,
    materials: list[dict[str, Any]] | None = None,
    source_uri: str | None = DEFAULT_SOURCE_URI,
    commit: str | None = COMMIT,
    pad_to: int | None = None,
) -> dict[str, Any]:
    """A BuildKit SLSA v0.2 provenance statement (in-toto Statement v0.1), as ``docker buildx build
    --provenance=mode=...`` writes it.

    ``args`` are the recorded build options with BuildKit's prefixes (``build-arg:NAME``,
    ``label:NAME``); by default the OCI labels build-push-action sets. ``materials`` replaces the
    default materials (see :func:`buildkit_materials`). ``pad_to`` adds realistic LLB steps until
    the compact JSON is about that many bytes (mode=max only).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
    platform = _platform_of(name)
    source = _resolve_source(source_uri, commit)
    seed = f"{subject_digest}|{name}"
    recorded_materials = (
        materials if materials is not None else buildkit_materials(platform, source_uri=source, commit=commit)
    )
    config_source: dict[str, Any] = {}
    if source:
        config_source["uri"] = source
        if commit:
            config_source["digest"] = {"sha1": commit}
    config_source["entryPoint"] = "Dockerfile"

    def build(extra_steps: int) -> dict[str, Any]:
        parameters: dict[str, Any] = {"frontend": "dockerfile.v0"}
        predicate: dict[str, Any] = {
            "builder": {"id": builder_id},
            "buildType": BUILDKIT_V02_BUILD_TYPE,
            "materials": [dict(m) for m in recorded_materials],
            "invocation": {
                "configSource": dict(config_source),
                "parameters": parameters,
                "environment": {"platform": platform},
            },
        }
        bk_metadata: dict[str, Any] = {}
        if mode == "max":
            llb, dockerfile = _build_definition(platform, seed, source, commit, extra_steps)
            parameters["args"] = dict(args if args is not None else _default_args(commit))
            parameters["secrets"] = [
                {"id": "GIT_AUTH_HEADER", "optional": True},
                {"id": "GIT_AUTH_TOKEN", "optional": True},
            ]
            predicate["buildConfig"] = {"llbDefinition": llb.steps, "digestMapping": llb.digest_mapping()}
            bk_metadata = _buildkit_metadata(llb, dockerfile, platform, source, commit)
        predicate["metadata"] = {
            "buildInvocationID": fake_hex("invocation", seed)[:25],
            "buildStartedOn": STARTED_ON,
            "buildFinishedOn": FINISHED_ON,
            "completeness": {"parameters": mode == "max", "environment": True, "materials": True},
            "reproducible": False,
            BUILDKIT_METADATA: bk_metadata,
        }
        return {
            "_type": STATEMENT_V01,
            "predicateType": SLSA_V02,
            "subject": _subject(name, subject_digest),
            "predicate": predicate,
        }

    return _padded(build, pad_to if mode == "max" else None)


def buildkit_v1_statement(
    subject_digest: str,
    *,
    name: str = DEFAULT_NAME,
    mode: str = "max",
    builder_id: str = DEFAULT_BUILDER,
    args: dict[str, str] | None = None,
    materials: list[dict[str, Any]] | None = None,
    source_uri: str | None = DEFAULT_SOURCE_URI,
    commit: str | None = COMMIT,
    pad_to: int | None = None,
) -> dict[str, Any]:
    """A BuildKit SLSA v1 provenance statement (``--provenance=mode=...,version=v1``): the build
    request in ``externalParameters``, ``internalParameters.buildConfig`` in mode=max, materials
    as ``resolvedDependencies``. Arguments as for :func:`buildkit_v02_statement`."""
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
    platform = _platform_of(name)
    source = _resolve_source(source_uri, commit)
    seed = f"{subject_digest}|{name}|v1"
    dependencies = (
        materials if materials is not None else buildkit_materials(platform, source_uri=source, commit=commit)
    )
    config_source: dict[str, Any] = {}
    if source:
        config_source["uri"] = source
        if commit:
            config_source["digest"] = {"sha1": commit}
    config_source["path"] = "Dockerfile"

    def build(extra_steps: int) -> dict[str, Any]:
        request: dict[str, Any] = {"frontend": "dockerfile.v0"}
        internal: dict[str, Any] = {}
        run_metadata: dict[str, Any] = {
            "invocationID": fake_hex("invocation", seed)[:25],
            "startedOn": STARTED_ON,
            "finishedOn": FINISHED_ON,
        }
        if mode == "max":
            llb, dockerfile = _build_definition(platform, seed, source, commit, extra_steps)
            request["args"] = dict(args if args is not None else _default_args(commit))
            request["secrets"] = [
                {"id": "GIT_AUTH_HEADER", "optional": True},
                {"id": "GIT_AUTH_TOKEN", "optional": True},
            ]
            internal["buildConfig"] = {"llbDefinition": llb.steps, "digestMapping": llb.digest_mapping()}
            run_metadata["buildkit_metadata"] = _buildkit_metadata(llb, dockerfile, platform, source, commit)
        internal["builderPlatform"] = "linux/amd64"
        run_metadata["buildkit_completeness"] = {"request": mode == "max", "resolvedDependencies": True}
        return {
            "_type": STATEMENT_V01,
            "predicateType": SLSA_V1,
            "subject": _subject(name, subject_digest),
            "predicate": {
                "buildDefinition": {
                    "buildType": BUILDKIT_V1_BUILD_TYPE,
                    "externalParameters": {"configSource": dict(config_source), "request": request},
                    "internalParameters": internal,
                    "resolvedDependencies": [dict(m) for m in dependencies],
                },
                "runDetails": {"builder": {"id": builder_id}, "metadata": run_metadata},
            },
        }

    return _padded(build, pad_to if mode == "max" else None)


def spdx_statement(subject_digest: str, *, name: str = DEFAULT_NAME) -> dict[str, Any]:
    """A small SPDX 2.3 SBOM statement, shaped like the one BuildKit's syft scanner attaches."""
    hexpart = _hex_of(subject_digest)
    return {
        "_type": STATEMENT_V01,
        "predicateType": SPDX_DOCUMENT,
        "subject": _subject(name, subject_digest),
        "predicate": {
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "/run/src/core/context",
            "documentNamespace": f"https://anchore.com/syft/dir/run/src/core/context-{hexpart[:32]}",
            "creationInfo": {
                "licenseListVersion": "3.23",
                "creators": ["Organization: Anchore, Inc", "Tool: syft-v1.4.1"],
                "created": "2025-03-04T09:15:38Z",
            },
            "packages": [
                {
                    "name": "github.com/example/app",
                    "SPDXID": "SPDXRef-Package-go-module-github.com-example-app",
                    "versionInfo": "v1.0.0",
                    "supplier": "NOASSERTION",
                    "downloadLocation": "NOASSERTION",
                    "filesAnalyzed": False,
                    "sourceInfo": "acquired package info from go module information: /app",
                    "licenseConcluded": "NOASSERTION",
                    "licenseDeclared": "NOASSERTION",
                    "copyrightText": "NOASSERTION",
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": "pkg:golang/github.com/example/app@v1.0.0",
                        }
                    ],
                },
                {
                    "name": "golang.org/x/sys",
                    "SPDXID": "SPDXRef-Package-go-module-golang.org-x-sys",
                    "versionInfo": "v0.30.0",
                    "supplier": "NOASSERTION",
                    "downloadLocation": "NOASSERTION",
                    "filesAnalyzed": False,
                    "licenseConcluded": "NOASSERTION",
                    "licenseDeclared": "NOASSERTION",
                    "copyrightText": "NOASSERTION",
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": "pkg:golang/golang.org/x/sys@v0.30.0",
                        }
                    ],
                },
            ],
            "relationships": [
                {
                    "spdxElementId": "SPDXRef-DOCUMENT",
                    "relatedSpdxElement": "SPDXRef-Package-go-module-github.com-example-app",
                    "relationshipType": "DESCRIBES",
                },
                {
                    "spdxElementId": "SPDXRef-Package-go-module-github.com-example-app",
                    "relatedSpdxElement": "SPDXRef-Package-go-module-golang.org-x-sys",
                    "relationshipType": "DEPENDS_ON",
                },
            ],
        },
    }


def dsse_envelope(
    statement: dict[str, Any], *, keyid: str = "", sig: bytes = b"placeholder signature, not verifiable"
) -> dict[str, Any]:
    """A well-formed DSSE envelope around ``statement`` (the signature is a placeholder)."""
    return {
        "payloadType": IN_TOTO_LAYER,
        "payload": base64.b64encode(statement_bytes(statement)).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}],
    }


def _layer_tar(content: bytes) -> bytes:
    """A one-file tar archive with fixed metadata (same input, same bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("app")
        info.size = len(content)
        info.mode = 0o755
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def add_platform_image(w: LayoutWriter, platform: Platform, *, seed: str) -> dict[str, Any]:
    """Write one platform image (config, one small layer, manifest); return its index descriptor."""
    layer = w.descriptor(_layer_tar(f"#!demo {seed} {platform}\n".encode()), OCI_LAYER_TAR)
    config: dict[str, Any] = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        config["variant"] = platform.variant
    config["config"] = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Entrypoint": ["/app"],
        "WorkingDir": "/",
        "Labels": {
            "org.opencontainers.image.revision": COMMIT,
            "org.opencontainers.image.source": REPOSITORY,
            "org.opencontainers.image.version": "v1.0.0",
        },
    }
    config["created"] = CREATED
    config["history"] = [
        {
            "created": CREATED,
            "created_by": "COPY /out/app /app # buildkit",
            "comment": "buildkit.dockerfile.v0",
        },
        {
            "created": CREATED,
            "created_by": 'ENTRYPOINT ["/app"]',
            "comment": "buildkit.dockerfile.v0",
            "empty_layer": True,
        },
    ]
    config["rootfs"] = {"type": "layers", "diff_ids": [layer["digest"]]}
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": w.descriptor(_compact(config), OCI_CONFIG),
        "layers": [layer],
    }
    return w.descriptor(w.json_bytes(manifest), OCI_MANIFEST, platform=platform)


def _predicate_type(statement: dict[str, Any]) -> str:
    value = statement.get("predicateType")
    return value if isinstance(value, str) else ""


UNKNOWN_PLATFORM = Platform("unknown", "unknown")


def add_attestation_manifest(
    w: LayoutWriter,
    platform_descriptor: dict[str, Any],
    statements: list[dict[str, Any]],
    *,
    form: str = "classic",
) -> dict[str, Any]:
    """Write a BuildKit attestation manifest for one platform image; return its index descriptor.

    ``classic``: image-config config (``unknown/unknown``) and in-toto layers, bound to the image
    by ``vnd.docker.reference.*`` annotations on the descriptor. ``artifact``: OCI 1.1 form with
    ``artifactType``, the empty config and ``subject`` (the descriptor also carries artifactType
    and the same annotations, as buildx writes it). Nothing is added to ``index.json``.
    """
    if form not in ("classic", "artifact"):
        raise ValueError(f"form must be 'classic' or 'artifact', not {form!r}")
    layers = [
        w.descriptor(
            statement_bytes(statement),
            IN_TOTO_LAYER,
            annotations={PREDICATE_TYPE_ANNOTATION: _predicate_type(statement)},
        )
        for statement in statements
    ]
    annotations = {
        REFERENCE_DIGEST: str(platform_descriptor["digest"]),
        REFERENCE_TYPE: "attestation-manifest",
    }
    manifest: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if form == "classic":
        config = {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
        }
        manifest["config"] = w.descriptor(_compact(config), OCI_CONFIG)
        manifest["layers"] = layers
        return w.descriptor(
            w.json_bytes(manifest), OCI_MANIFEST, annotations=annotations, platform=UNKNOWN_PLATFORM
        )
    manifest["artifactType"] = BUILDKIT_ATTESTATION_ARTIFACT
    empty = w.descriptor(b"{}", OCI_EMPTY)
    empty["data"] = "e30="
    manifest["config"] = empty
    manifest["layers"] = layers
    manifest["subject"] = {
        "mediaType": platform_descriptor.get("mediaType", OCI_MANIFEST),
        "digest": platform_descriptor["digest"],
        "size": platform_descriptor["size"],
    }
    return w.descriptor(
        w.json_bytes(manifest),
        OCI_MANIFEST,
        annotations=annotations,
        platform=UNKNOWN_PLATFORM,
        artifact_type=BUILDKIT_ATTESTATION_ARTIFACT,
    )


def add_index(
    w: LayoutWriter,
    manifests: list[dict[str, Any]],
    *,
    ref_name: str | None = "v1.0.0",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write an image index over ``manifests`` and add it to ``index.json`` (tagged ``ref_name``).

    Returns the index descriptor (without the index.json annotations). Call ``w.write_index()``
    once everything is added.
    """
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(manifests)}
    descriptor = w.descriptor(w.json_bytes(index), OCI_INDEX)
    w.add_entry(descriptor, ref_name=ref_name, annotations=annotations)
    return descriptor


def add_cosign_att(
    w: LayoutWriter, image_digest: str, envelopes: list[dict[str, Any]], *, as_kind: bool = True
) -> dict[str, Any]:
    """Write a cosign attestation manifest (what ``cosign attest`` pushes to ``sha256-HEX.att``).

    Added to ``index.json`` the way ``cosign save`` does (``kind: dev.cosignproject.cosign/atts``),
    or, with ``as_kind=False``, tagged ``sha256-HEX.att`` as a registry copy would be.
    Returns the manifest descriptor.
    """
    layers = []
    for envelope in envelopes:
        predicate_type = ""
        try:
            payload = json.loads(base64.b64decode(envelope.get("payload", "")))
            predicate_type = _predicate_type(payload) if isinstance(payload, dict) else ""
        except ValueError:
            pass
        layer_annotations = {COSIGN_SIGNATURE_ANNOTATION: ""}
        if predicate_type:
            layer_annotations["predicateType"] = predicate_type
        layers.append(w.descriptor(_compact(envelope), DSSE_LAYER, annotations=layer_annotations))
    config = {
        "architecture": "",
        "created": ZERO_TIME,
        "history": [{"created": ZERO_TIME}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
        "config": {},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": w.descriptor(_compact(config), OCI_CONFIG),
        "layers": layers,
    }
    descriptor = w.descriptor(w.json_bytes(manifest), OCI_MANIFEST)
    if as_kind:
        w.add_entry(descriptor, annotations={COSIGN_KIND: COSIGN_ATTS_KIND})
    else:
        w.add_entry(descriptor, ref_name=f"sha256-{_hex_of(image_digest)}.att")
    return descriptor
