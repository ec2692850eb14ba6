"""One normalized view over the SLSA provenance formats seen in the wild.

Understood flavours:

- BuildKit (``docker buildx``), SLSA v0.2 (``buildType https://mobyproject.org/buildkit@v1``) and
  SLSA v1 (``https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md``),
  in ``mode=min`` and ``mode=max``;
- GitHub ``actions/attest-build-provenance`` (``https://actions.github.io/buildtypes/workflow/v1``);
- slsa-github-generator, SLSA v0.2 (``https://github.com/slsa-framework/slsa-github-generator/...``)
  and v1 (``https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1``);
- anything else as ``generic`` SLSA v0.1 / v0.2 / v1 (builder, materials, config source).

Normalization never raises: a malformed predicate yields ``None`` fields (schema validation is what
reports the malformation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slsalint.model import Material, ProvenanceMode, ProvenanceView

BUILDKIT_V02_BUILD_TYPE = "https://mobyproject.org/buildkit@v1"
BUILDKIT_V1_BUILD_TYPES = frozenset(
    {
        "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
        "https://mobyproject.org/buildkit@v1",
    }
)
GITHUB_ACTIONS_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
GENERATOR_V1_BUILD_TYPE = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
GENERATOR_V02_PREFIX = "https://github.com/slsa-framework/slsa-github-generator"

_SLSA_VERSIONS = {
    "https://slsa.dev/provenance/v0.1": "0.1",
    "https://slsa.dev/provenance/v0.2": "0.2",
    "https://slsa.dev/provenance/v1": "1",
}
_HEX_COMMIT = re.compile(r"\A[0-9a-f]{40}([0-9a-f]{24})?\Z")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _digest_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _materials(items: Any, base: str, uri_key: str) -> tuple[Material, ...]:
    if not isinstance(items, list):
        return ()
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            out.append(Material("", {}, f"{base}/{i}"))
            continue
        uri = item.get(uri_key)
        if not uri or not isinstance(uri, str):
            uri = item.get("name")
            if not uri or not isinstance(uri, str):
                uri = ""
        out.append(Material(uri, _digest_map(item.get("digest")), f"{base}/{i}"))
    return tuple(out)


def split_git_uri(uri: str) -> tuple[str, str | None]:
    """Split ``git+https://host/o/r@refs/heads/main`` or ``https://host/o/r.git#rev`` into (repo, rev)."""
    rest = uri.removeprefix("git+")
    rev: str | None = None
    if "#" in rest:
        rest, rev = rest.split("#", 1)
    elif "@" in rest.split("://", 1)[-1]:
        head, _, tail = rest.rpartition("@")
        if "/" in head.split("://", 1)[-1]:
            rest, rev = head, tail
    return rest, rev or None


def normalize_repository(uri: str) -> str:
    """Comparable form of a repository URI: ``github.com/org/repo`` (no scheme, no .git, no ref)."""
    repo, _ = split_git_uri(uri.strip())
    repo = re.sub(r"\A[a-zA-Z][a-zA-Z0-9+.-]*://", "", repo)
    repo = re.sub(r"\A[^@/]+@", "", repo)  # user@host
    repo = repo.replace(":", "/", 1) if re.match(r"\A[^/]+:[^/]", repo) else repo  # git@host:o/r
    repo = repo.rstrip("/").removesuffix(".git")
    host, _, path = repo.partition("/")
    return f"{host.lower()}/{path}" if path else host.lower()


def _commit_from(digest: dict[str, str]) -> str | None:
    for key in ("gitCommit", "sha1", "sha256"):
        value = digest.get(key)
        if value and _HEX_COMMIT.match(value.lower()):
            return value.lower()
    return None


def _config_source(
    config: dict[str, Any], pointer: str
) -> tuple[str | None, str | None, str | None, str | None]:
    """(repository, ref, commit, pointer) from a ``configSource``: the URI's fragment or ``@ref`` is a
    commit when it is 40/64 hex digits, else a ref; the digest's ``sha1``/``gitCommit`` is the commit."""
    uri = _s(config.get("uri"))
    if not uri:
        return None, None, None, None
    repo, rev = split_git_uri(uri)
    commit = _commit_from(_digest_map(config.get("digest")))
    ref = None
    if rev and _HEX_COMMIT.match(rev.lower()):
        commit = commit or rev.lower()
    elif rev:
        ref = rev
    return repo, ref, commit, pointer


def normalize(statement: dict[str, Any]) -> ProvenanceView | None:
    """The normalized view of a statement, or None when it is not SLSA provenance."""
    predicate_type = statement.get("predicateType")
    version = _SLSA_VERSIONS.get(predicate_type) if isinstance(predicate_type, str) else None
    if version is None:
        return None
    predicate = _d(statement.get("predicate"))
    if version == "1":
        return _normalize_v1(str(predicate_type), predicate)
    return _normalize_v0(str(predicate_type), version, predicate)


def _normalize_v0(predicate_type: str, version: str, predicate: dict[str, Any]) -> ProvenanceView:
    builder_id = _s(_d(predicate.get("builder")).get("id"))
    build_type = _s(predicate.get("buildType"))
    invocation = _d(predicate.get("invocation"))
    if version == "0.1":
        recipe = _d(predicate.get("recipe"))
        build_type = _s(recipe.get("type"))
        invocation = {}
    config = _d(invocation.get("configSource"))
    params = _d(invocation.get("parameters"))
    env = _d(invocation.get("environment"))
    materials = _materials(predicate.get("materials"), "/predicate/materials", "uri")

    flavor = "generic"
    mode = ProvenanceMode.UNKNOWN
    build_args: dict[str, str] = {}
    args_pointer: str | None = None
    repo, ref, commit, source_pointer = _config_source(config, "/predicate/invocation/configSource")

    if build_type == BUILDKIT_V02_BUILD_TYPE:
        flavor = "buildkit"
        mode = ProvenanceMode.MAX if "buildConfig" in predicate else ProvenanceMode.MIN
        args = params.get("args")
        if isinstance(args, dict):
            build_args = {str(k): v if isinstance(v, str) else str(v) for k, v in args.items()}
            args_pointer = "/predicate/invocation/parameters/args"
        vcs = _d(
            _d(_d(predicate.get("metadata")).get("https://mobyproject.org/buildkit@v1#metadata")).get("vcs")
        )
        if not repo and _s(vcs.get("source")):
            repo = split_git_uri(str(vcs["source"]))[0]
            source_pointer = "/predicate/metadata/https:~1~1mobyproject.org~1buildkit@v1#metadata/vcs"
        revision = _s(vcs.get("revision"))
        if not commit and revision and _HEX_COMMIT.match(revision.lower()):
            commit = revision.lower()
        ref = ref or _s(env.get("github_ref"))
    elif build_type and build_type.startswith(GENERATOR_V02_PREFIX):
        flavor = "slsa-github-generator"
        ref = ref or _s(env.get("github_ref"))
        commit = commit or _s(env.get("github_sha1"))
        inputs = _d(_d(env.get("github_event_payload")).get("inputs"))
        if inputs:
            build_args = {str(k): v if isinstance(v, str) else str(v) for k, v in inputs.items()}
            args_pointer = "/predicate/invocation/environment/github_event_payload/inputs"

    if repo is None and version == "0.1":
        recipe = _d(predicate.get("recipe"))
        index = recipe.get("definedInMaterial")
        if isinstance(index, int) and 0 <= index < len(materials):
            repo, rev = split_git_uri(materials[index].uri)
            commit = _commit_from(materials[index].digest)
            source_pointer = materials[index].pointer
            if rev and not _HEX_COMMIT.match(rev.lower()):
                ref = rev

    return ProvenanceView(
        predicate_type=predicate_type,
        slsa_version=version,
        flavor=flavor,
        builder_id=builder_id,
        builder_pointer="/predicate/builder/id",
        build_type=build_type,
        source_repository=repo,
        source_ref=ref,
        source_commit=commit,
        source_pointer=source_pointer,
        materials=materials,
        build_args=build_args,
        build_args_pointer=args_pointer,
        mode=mode,
    )


def _normalize_v1(predicate_type: str, predicate: dict[str, Any]) -> ProvenanceView:
    definition = _d(predicate.get("buildDefinition"))
    run = _d(predicate.get("runDetails"))
    builder_id = _s(_d(run.get("builder")).get("id"))
    build_type = _s(definition.get("buildType"))
    external = _d(definition.get("externalParameters"))
    internal = _d(definition.get("internalParameters"))
    materials = _materials(
        definition.get("resolvedDependencies"), "/predicate/buildDefinition/resolvedDependencies", "uri"
    )
    flavor = "generic"
    mode = ProvenanceMode.UNKNOWN
    build_args: dict[str, str] = {}
    args_pointer: str | None = None
    repo: str | None = None
    ref: str | None = None
    commit: str | None = None
    source_pointer: str | None = None

    if build_type in BUILDKIT_V1_BUILD_TYPES:
        flavor = "buildkit"
        mode = ProvenanceMode.MAX if "buildConfig" in internal else ProvenanceMode.MIN
        repo, ref, commit, source_pointer = _config_source(
            _d(external.get("configSource")), "/predicate/buildDefinition/externalParameters/configSource"
        )
        args = _d(external.get("request")).get("args")
        if isinstance(args, dict):
            build_args = {str(k): v if isinstance(v, str) else str(v) for k, v in args.items()}
            args_pointer = "/predicate/buildDefinition/externalParameters/request/args"
        ref = ref or _s(internal.get("github_ref"))
        if not repo and _s(internal.get("github_repository")):
            server = _s(internal.get("github_server_url")) or "https://github.com"
            repo = f"{server.rstrip('/')}/{internal['github_repository']}"
            source_pointer = "/predicate/buildDefinition/internalParameters/github_repository"
        commit = commit or _s(internal.get("github_sha"))
    elif build_type in (GITHUB_ACTIONS_BUILD_TYPE, GENERATOR_V1_BUILD_TYPE):
        flavor = "github-actions" if build_type == GITHUB_ACTIONS_BUILD_TYPE else "slsa-github-generator"
        workflow = _d(external.get("workflow"))
        repo = _s(workflow.get("repository"))
        ref = _s(workflow.get("ref"))
        if repo:
            source_pointer = "/predicate/buildDefinition/externalParameters/workflow"
        inputs = _d(external.get("inputs"))
        if inputs:
            build_args = {str(k): v if isinstance(v, str) else str(v) for k, v in inputs.items()}
            args_pointer = "/predicate/buildDefinition/externalParameters/inputs"
    for material in materials:
        if commit:
            break
        if material.uri.startswith("git+") or ".git" in material.uri or "gitCommit" in material.digest:
            found = _commit_from(material.digest)
            if found:
                commit = found
                if not repo:
                    repo, rev = split_git_uri(material.uri)
                    ref = ref or (rev if rev and not _HEX_COMMIT.match(rev.lower()) else None)
                    source_pointer = material.pointer

    return ProvenanceView(
        predicate_type=predicate_type,
        slsa_version="1",
        flavor=flavor,
        builder_id=builder_id,
        builder_pointer="/predicate/runDetails/builder/id",
        build_type=build_type,
        source_repository=repo,
        source_ref=ref,
        source_commit=commit,
        source_pointer=source_pointer,
        materials=materials,
        build_args=build_args,
        build_args_pointer=args_pointer,
        mode=mode,
    )


# --- what each piece of evidence says about the source -------------------------------------------

TIER_CERTIFICATE = 1
"""Claims of a verified signer certificate (Fulcio: GitHub and GitLab OIDC claims)."""
TIER_SIGNED = 2
"""Provenance whose signature verified (slsa-github-generator, actions/attest, cosign attest)."""
TIER_UNSIGNED = 3
"""Provenance nobody vouches for (BuildKit attestation manifests, unverified envelopes)."""
TIER_ANNOTATION = 4
"""OCI annotations of the index or manifest (``org.opencontainers.image.source`` ...)."""

SOURCE_ANNOTATION = "org.opencontainers.image.source"
REVISION_ANNOTATION = "org.opencontainers.image.revision"
VERSION_ANNOTATION = "org.opencontainers.image.version"
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"

_FLAVOR_NAMES = {
    "buildkit": "BuildKit",
    "github-actions": "GitHub Actions (actions/attest-build-provenance)",
    "slsa-github-generator": "slsa-github-generator",
    "generic": "SLSA",
}


@dataclass(frozen=True)
class SourceClaim:
    """What one piece of evidence records about the source an image was built from.

    Any of repository, ref and commit may be None: the evidence records nothing about it. Each
    recorded value names where in the evidence it was read (``*_from``: a claim name, a JSON
    pointer, an annotation key)."""

    tier: int
    evidence: str
    """The evidence in words, for messages: ``verified signer certificate (...) of cosign-sig ...``."""
    source: str | None = None
    """The evidence source (``KIND LOCATION``) findings name."""
    pointer: str | None = None
    """JSON pointer of the source in the statement (provenance only)."""
    repository: str | None = None
    repository_from: str | None = None
    ref: str | None = None
    ref_from: str | None = None
    ref_is_version: bool = False
    """The ref is an image version (``v1.2.3``, ``main``): it stands for a tag or branch name."""
    commit: str | None = None
    commit_from: str | None = None
    trigger: str | None = None
    """What started the build (``build-trigger``: push, workflow_dispatch, pull_request...)."""

    def value(self, name: str) -> str | None:
        """``repository``, ``ref`` or ``commit``."""
        value: str | None = getattr(self, name)
        return value

    def origin(self, name: str) -> str | None:
        origin: str | None = getattr(self, f"{name}_from")
        return origin

    def refs(self) -> tuple[str, ...]:
        """The full refs the recorded ref may stand for (a version names a tag or a branch)."""
        if self.ref is None:
            return ()
        if self.ref_is_version and not self.ref.startswith("refs/"):
            return (f"refs/tags/{self.ref}", f"refs/heads/{self.ref}")
        return (self.ref,)

    def describe(self, name: str) -> str:
        """``source-repository-ref of the verified signer certificate ... (build trigger push)``."""
        origin = self.origin(name)
        text = f"{origin} of the {self.evidence}" if origin else f"the {self.evidence}"
        if self.trigger and self.tier == TIER_CERTIFICATE:
            text += f" (build trigger {self.trigger})"
        return text


def _commit(value: str | None) -> str | None:
    if value and _HEX_COMMIT.match(value.lower()):
        return value.lower()
    return None


def certificate_claim(
    subject: str | None, issuer: str | None, claims: dict[str, str], *, where: str, source: str | None
) -> SourceClaim:
    """The source claims of a verified Fulcio certificate (``SignerIdentity.github``).

    ``source-repository-uri`` / ``-ref`` / ``-digest`` and ``build-trigger`` are what GitHub and
    GitLab both set; certificates older than them carry GitHub's ``github-workflow-repository`` /
    ``-ref`` / ``-sha`` / ``-trigger`` instead."""
    repository, repository_from = claims.get("source-repository-uri"), "source-repository-uri"
    legacy_repository = claims.get("github-workflow-repository")
    if not repository and legacy_repository and (issuer or "").startswith(GITHUB_ACTIONS_ISSUER):
        repository, repository_from = f"https://github.com/{legacy_repository}", "github-workflow-repository"
    ref, ref_from = claims.get("source-repository-ref"), "source-repository-ref"
    if not ref and claims.get("github-workflow-ref"):
        ref, ref_from = claims["github-workflow-ref"], "github-workflow-ref"
    commit, commit_from = _commit(claims.get("source-repository-digest")), "source-repository-digest"
    if commit is None and _commit(claims.get("github-workflow-sha")):
        commit, commit_from = _commit(claims.get("github-workflow-sha")), "github-workflow-sha"
    who = f"{subject}, issuer {issuer or 'unknown'}" if subject else "a key"
    return SourceClaim(
        tier=TIER_CERTIFICATE,
        evidence=f"verified signer certificate ({who}) of {where}",
        source=source,
        repository=repository or None,
        repository_from=repository_from if repository else None,
        ref=ref or None,
        ref_from=ref_from if ref else None,
        commit=commit,
        commit_from=commit_from if commit else None,
        trigger=claims.get("build-trigger") or claims.get("github-workflow-trigger") or None,
    )


def provenance_claim(view: ProvenanceView, *, signed: bool, source: str) -> SourceClaim:
    """The source a provenance statement records (``signed``: its signature verified, by a signer
    the policy allows)."""
    kind = "signed" if signed else "unsigned"
    pointer = view.source_pointer
    return SourceClaim(
        tier=TIER_SIGNED if signed else TIER_UNSIGNED,
        evidence=f"{kind} {_FLAVOR_NAMES.get(view.flavor, view.flavor)} provenance from {source}",
        source=source,
        pointer=pointer,
        repository=view.source_repository,
        repository_from=pointer if view.source_repository else None,
        ref=view.source_ref,
        ref_from=pointer if view.source_ref else None,
        commit=view.source_commit,
        commit_from=pointer if view.source_commit else None,
    )


def annotation_claim(annotations: dict[str, str], *, where: str) -> SourceClaim | None:
    """The source OCI annotations record (``org.opencontainers.image.source``, ``.revision``,
    ``.version``), or None when they record none of it."""
    repository = annotations.get(SOURCE_ANNOTATION) or None
    commit = _commit(annotations.get(REVISION_ANNOTATION))
    version = annotations.get(VERSION_ANNOTATION) or None
    if not (repository or commit or version):
        return None
    return SourceClaim(
        tier=TIER_ANNOTATION,
        evidence=f"OCI annotations of {where}",
        repository=repository,
        repository_from=SOURCE_ANNOTATION if repository else None,
        ref=version,
        ref_from=VERSION_ANNOTATION if version else None,
        ref_is_version=True,
        commit=commit,
        commit_from=REVISION_ANNOTATION if commit else None,
    )
