"""Was it built from the expected source, at a recorded commit, from pinned inputs?"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from slsalint.checks.base import STRING_LIST, Check, CheckContext, options_schema
from slsalint.model import Finding, Level
from slsalint.provenance import normalize_repository


class SourceRepositoryMismatch(Check):
    """The provenance must record the expected source repository.

    **What it checks.** The source repository recorded in the provenance (BuildKit
    ``configSource.uri`` or VCS metadata, ``externalParameters.workflow.repository`` for GitHub
    workflows, the generator's ``configSource``) against the ``repositories`` option. Comparison
    ignores the scheme, ``git+``, a ``.git`` suffix and the ref: ``https://github.com/o/r.git#abc``
    equals ``github.com/o/r``. Globs are allowed. Inactive until ``repositories`` is set; provenance
    that records no repository fails when it is set. For an image that belongs to a component of
    the policy's ``components`` map with a ``source``, that source replaces the option.

    **Why it matters.** An image built from a fork or another repository can carry perfectly valid
    provenance; only comparing the source with what you expect catches it (slsa-verifier's
    ``--source-uri``).

    **How to fix.** Publish images built from the expected repository, or correct the option (or
    the component's ``source``).

    **Options.** ``repositories``: list of repository URIs or globs.

    **Passing example.** ``repositories: [github.com/slsa-framework/example-package]`` and
    ``configSource.uri: git+https://github.com/slsa-framework/example-package@refs/heads/main``.

    **Failing example.** The same option and ``...example-packageA``.
    """

    id = "SL401"
    name = "source-repository-mismatch"
    level = Level.ERROR
    summary = "Source repo in provenance/certificate is not the expected one"
    remediation = "publish images built from the expected repository, or correct the repositories option"
    security_severity = 8.0
    options_schema = options_schema({"repositories": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        expected: list[str] = ctx.options.get("repositories") or []
        component = ctx.expectation.component if ctx.expectation is not None else None
        remediation = self.remediation
        if component is not None and component.source:
            expected = [component.source]
            remediation = (
                f"publish {component.name} images built from {component.source}, or correct "
                f"components.{component.name}.source in the policy"
            )
        if not expected:
            return
        wanted = [normalize_repository(e) for e in expected]
        whose = f" of component {component.name}" if component is not None and component.source else ""
        for platform, attestation, view in ctx.provenance():
            actual = normalize_repository(view.source_repository) if view.source_repository else None
            if actual and any(fnmatchcase(actual, pattern) for pattern in wanted):
                continue
            yield ctx.finding(
                f"source repository {actual!r} is not the expected one{whose}"
                if actual
                else f"provenance records no source repository{whose}",
                platform=platform,
                attestation=attestation,
                pointer=view.source_pointer,
                expected=expected,
                actual=view.source_repository,
                remediation=remediation,
            )


class SourceRefMismatch(Check):
    """The provenance must record the expected branch or tag.

    **What it checks.** The source ref recorded in the provenance (``externalParameters.workflow.ref``,
    the generator's ``configSource`` ref or ``github_ref``, BuildKit's ``github_ref``) against the
    ``refs`` option (exact refs or globs such as ``refs/tags/v*``). Inactive until ``refs`` is set;
    provenance that records no ref fails when it is set. For an image that belongs to a component
    of the policy's ``components`` map with a ``ref``, the ref derived from the image tag replaces
    the option: ``ref: "refs/tags/{tag}"`` with ``tag-transforms`` such as ``strip-v`` or
    ``{replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}`` (image ``v1.30.4-rke2r1`` expects
    ``refs/tags/v1.30.4+rke2r1``). A ``{tag}`` template and an image checked without a tag (by
    digest only) is a finding: the expected ref cannot be derived.

    **Why it matters.** Release images should come from release tags or protected branches, not
    from a feature branch that happened to run the same workflow.

    **How to fix.** Release from the expected ref, or correct the option (or the component's
    ``ref`` and ``tag-transforms``); check images by tag (``IMAGE:TAG@DIGEST`` pins both).

    **Options.** ``refs``: list of refs or globs (``refs/heads/main``, ``refs/tags/v*``).

    **Passing example.** ``refs: [refs/heads/main]`` and ``workflow.ref: refs/heads/main``.

    **Failing example.** ``refs: [refs/heads/main]`` and ``workflow.ref: refs/heads/master``.
    """

    id = "SL402"
    name = "source-ref-mismatch"
    level = Level.ERROR
    summary = "Tag/branch/ref differs from what the policy or component map expects"
    remediation = "release from the expected ref, or correct the refs option"
    security_severity = 6.5
    options_schema = options_schema({"refs": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        expected: list[str] = ctx.options.get("refs") or []
        remediation = self.remediation
        whose = ""
        exp = ctx.expectation
        if exp is not None and exp.component.ref is not None:
            name = exp.component.name
            whose = f" of component {name}"
            remediation = (
                f"release {name} from the expected ref, or correct components.{name}.ref / tag-transforms "
                "in the policy"
            )
            problem = exp.ref_problem
            if problem is not None:
                if any(True for _ in ctx.provenance()):
                    yield ctx.finding(
                        problem,
                        expected=exp.component.ref,
                        remediation="check the image by tag (IMAGE:TAG, or IMAGE:TAG@DIGEST to pin both)",
                    )
                return
            expected = [exp.ref] if exp.ref is not None else []
        if not expected:
            return
        for platform, attestation, view in ctx.provenance():
            ref = view.source_ref
            if ref and any(fnmatchcase(ref, pattern) for pattern in expected):
                continue
            yield ctx.finding(
                f"source ref {ref!r} is not an expected ref{whose}"
                if ref
                else f"provenance records no source ref{whose}",
                platform=platform,
                attestation=attestation,
                pointer=view.source_pointer,
                expected=expected,
                actual=ref,
                remediation=remediation,
            )


class SourceCommitMissing(Check):
    """The provenance should record the exact source commit.

    **What it checks.** A VCS commit (40 or 64 hex characters) in the provenance: the
    ``configSource`` digest (``sha1``/``gitCommit``), BuildKit VCS metadata, or a git dependency in
    ``resolvedDependencies``.

    **Why it matters.** Without a commit the provenance cannot be tied to reviewed source; a branch
    name moves, a commit does not.

    **How to fix.** Build from a git context (``docker buildx build https://github.com/o/r.git#ref``
    or in CI with a checkout, where BuildKit records ``vcs:source``/``vcs:revision``), or use a
    builder that records the commit.

    **Passing example.** ``configSource.digest.sha1: 4d329c75e7ec1725f7c9ce917a8799d408d06be3``.

    **Failing example.** A local ``docker buildx build .`` with no VCS information.
    """

    id = "SL403"
    name = "source-commit-missing"
    level = Level.WARNING
    summary = "No VCS commit recorded for the source"
    remediation = "build from a git context or in CI so the builder records the source commit"
    security_severity = 4.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform, attestation, view in ctx.provenance():
            if not view.source_commit:
                yield ctx.finding(
                    "provenance records no source commit",
                    platform=platform,
                    attestation=attestation,
                    pointer=view.source_pointer,
                    expected="a 40- or 64-hex-digit commit",
                    actual=None,
                    remediation=self.remediation,
                )


class MaterialUnpinned(Check):
    """Every material / resolved dependency should be pinned by digest.

    **What it checks.** Each entry of ``materials`` (v0.1/v0.2) or
    ``buildDefinition.resolvedDependencies`` (v1) has a non-empty ``digest``. Materials whose URI
    matches a glob in the ``ignore`` option are skipped.

    **Why it matters.** A material without a digest is a moving target: the provenance cannot say
    which base image or dependency the build actually used.

    **How to fix.** Pin base images by digest (``FROM golang:1.21@sha256:...``) and make the builder
    record digests (BuildKit does for images it resolves).

    **Options.** ``ignore``: list of material URI globs to skip.

    **Passing example.** ``{"uri": "pkg:docker/golang@1.21", "digest": {"sha256": "4746..."}}``.

    **Failing example.** ``{"uri": "https://example.com/tool.tar.gz"}``.
    """

    id = "SL404"
    name = "material-unpinned"
    level = Level.WARNING
    summary = "A material / resolved dependency has no digest"
    remediation = "pin the dependency by digest so the provenance records exactly what was used"
    security_severity = 4.0
    options_schema = options_schema({"ignore": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        ignore: list[str] = ctx.options.get("ignore") or []
        for platform, attestation, view in ctx.provenance():
            for material in view.materials:
                if any(v for v in material.digest.values()):
                    continue
                if any(fnmatchcase(material.uri, pattern) for pattern in ignore):
                    continue
                yield ctx.finding(
                    f"material {material.uri or '(no uri)'!r} has no digest",
                    platform=platform,
                    attestation=attestation,
                    pointer=material.pointer,
                    expected="a digest",
                    actual=material.digest or None,
                    remediation=self.remediation,
                )
