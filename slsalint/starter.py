"""Starter policy files for ``slsalint init``: a commented ``slsalint.yaml`` for the detected use.

Detection looks at the working tree only (no network): ``.github/workflows`` means GitHub Actions,
``.gitlab-ci.yml`` means GitLab CI, and the ``origin`` remote of the git checkout names the
repository whose workflows are expected to sign. What cannot be detected is written as a
placeholder the user must replace (``ORG/REPO``), never as a value that would silently pass.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

USES = ("gate", "components")
"""``gate``: a CI gate for one repository's images. ``components``: a release of many images, each
mapped to the repository and ref it must be built from (Fleet-style)."""


@dataclass(frozen=True)
class Detected:
    ci: str | None
    """``github``, ``gitlab`` or None."""
    host: str | None
    """``github.com``, ``gitlab.com`` or another forge host of the origin remote."""
    repository: str | None
    """``ORG/REPO`` (GitHub) or ``GROUP/PROJECT`` (GitLab) of the origin remote."""


_SCP = re.compile(r"^(?:[^@/]+@)?([^/:]+):(?!//)(.+)$")


def parse_remote(url: str) -> tuple[str, str] | None:
    """``(host, path)`` of a git remote URL (https, ssh, scp-like ``git@host:path``), or None."""
    from urllib.parse import urlsplit

    text = url.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = parts.hostname
        except ValueError:
            return None
        path = parts.path
    else:
        match = _SCP.match(text)
        if not match:
            return None
        host, path = match.group(1), match.group(2)
    path = path.strip("/").removesuffix(".git")
    if not host or not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", path):
        return None
    return host.lower(), path


def detect(directory: Path) -> Detected:
    """What ``directory`` (a project checkout) looks like."""
    ci = None
    if (directory / ".github" / "workflows").is_dir():
        ci = "github"
    elif (directory / ".gitlab-ci.yml").is_file():
        ci = "gitlab"
    host = repository = None
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        result = None
    if result is not None and result.returncode == 0:
        parsed = parse_remote(result.stdout)
        if parsed:
            host, repository = parsed
    if ci is None and host == "github.com":
        ci = "github"
    elif ci is None and host is not None and "gitlab" in host:
        ci = "gitlab"
    return Detected(ci=ci, host=host, repository=repository)


def _regexp(text: str) -> str:
    return re.escape(text)


def _signers(found: Detected) -> str:
    repo = found.repository or "ORG/REPO"
    if found.ci == "gitlab":
        host = found.host or "gitlab.com"
        return f"""signers:
  # Keyless signatures made by `cosign sign` in this project's GitLab pipelines (cosign semantics:
  # the certificate's identity is the pipeline's CI config ref URI, its issuer the GitLab instance).
  - issuer: https://{host}
    identity-regexp: '^https://{_regexp(host)}/{_regexp(repo)}//\\.gitlab-ci\\.yml@refs/(heads/main|tags/.+)$'
    # Required signature annotations (cosign sign -a tag=$CI_COMMIT_TAG), checked by SL206:
    # annotations: {{tag: "v1.2.3"}}
  # Or a key pair made with `cosign generate-key-pair`:
  # - key: cosign.pub
"""
    return f"""signers:
  # Keyless signatures made in this repository's GitHub Actions workflows (cosign semantics).
  - issuer: https://token.actions.githubusercontent.com
    identity-regexp: '^https://github\\.com/{_regexp(repo)}/\\.github/workflows/[^/]+@refs/(heads/main|tags/.+)$'
  # Or a key pair made with `cosign generate-key-pair`:
  # - key: cosign.pub
"""


def _builder(found: Detected) -> str:
    repo = found.repository or "ORG/REPO"
    if found.ci == "gitlab":
        host = found.host or "gitlab.com"
        return f"https://{host}/{repo}/*"
    return f"https://github.com/{repo}/*"


def render(use: str, found: Detected) -> str:
    """The text of a starter ``slsalint.yaml`` for ``use`` (one of :data:`USES`)."""
    if use not in USES:
        raise ValueError(f"unknown use {use!r}: expected one of {', '.join(USES)}")
    repo = found.repository or "ORG/REPO"
    host = found.host or ("gitlab.com" if found.ci == "gitlab" else "github.com")
    placeholder = (
        ""
        if found.repository
        else ("# ORG/REPO is a placeholder: replace it with your repository before using this file.\n")
    )
    ci = {"github": "GitHub Actions", "gitlab": "GitLab CI"}.get(found.ci or "", "no CI detected")
    head = f"""# slsalint policy (https://github.com/slsalint/slsalint/blob/main/docs/usage.md#policy-file)
# Written by `slsalint init --use {use}` for {repo} ({ci}). Check it with:
#   slsalint rules list --policy slsalint.yaml
{placeholder}version: 1

# Rule packs: recommended (default), docker-scout, slsa-build-l2, slsa-build-l3, github-actions.
packs: [recommended]

# Exit 1 when an unwaived finding is at least this severe: error, warning or note.
fail-on: error

rules:
  # BuildKit provenance must be mode=max (docker buildx build --provenance=mode=max).
  SL302: {{level: error}}
  # Only these builders may have built the images (globs allowed).
  SL301: {{allowed-builders: ["{_builder(found)}"]}}
"""
    if use == "gate":
        body = f"""  # The source repository the provenance (or signer certificate) must name.
  SL401: {{repositories: ["{host}/{repo}"]}}

{_signers(found)}
# Your own rules in Rego (deny/warn with # METADATA custom.id), relative to this file:
# rego: [policies/]

# Reviewed, time-limited waivers; create the file with `slsalint exceptions add`:
# exceptions: slsalint-exceptions.yaml
"""
    else:
        body = f"""
{_signers(found)}
# Each component maps image globs to the repository and ref its provenance must name (SL401,
# SL402); {{tag}} is the checked image's tag after the tag transforms.
components:
  example-agent:
    images: ["*/{repo.split("/")[0]}/example-agent"]
    source: https://{host}/{repo}
    ref: "refs/tags/{{tag}}"
    # tag-transforms: [strip-v]   # when images are tagged 1.2.3 but the repository v1.2.3
  # example-controller:
  #   images: ["*/{repo.split("/")[0]}/example-controller"]
  #   source: https://{host}/{repo}
  #   ref: "refs/tags/{{tag}}"

# Waivers for one component with a reason, an owner and an expiry (docs/release-manager.md);
# create the file with `slsalint exceptions add --component example-agent ...`:
# exceptions: slsalint-exceptions.yaml
"""
    return head + body
