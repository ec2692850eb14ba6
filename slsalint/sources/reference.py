"""Image references: ``REGISTRY/REPO:TAG``, ``REPO@sha256:HEX``, ``REPO:TAG@sha256:HEX`` and Docker Hub
short forms (``alpine`` -> ``docker.io/library/alpine:latest``), normalised as the Docker CLI does."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass

from slsalint.errors import ConfigError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO = re.compile(rf"\A{_COMPONENT}(?:/{_COMPONENT})*\Z")
_TAG = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"\Asha256:[0-9a-f]{64}\Z")
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@]+@"
    r"|(?<![A-Za-z0-9._~%!$&*+,;=:-])[A-Za-z0-9._~%!$&*+,;=-]+:[^\s/@'\"]*@(?!sha256:|sha512:)"
    r"(?=[A-Za-z0-9\[]|$|[\s'\":;,)])"
)
_HOST = re.compile(
    r"\A(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z"
)


@dataclass(frozen=True)
class ImageRef:
    registry: str
    """As the user names it (``docker.io``, ``ghcr.io``, ``127.0.0.1:5000``)."""
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """Host (and port) the registry API is served from."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def with_digest(self, digest: str) -> ImageRef:
        return ImageRef(self.registry, self.repository, self.tag, digest)

    def with_repository(self, repository: str) -> ImageRef:
        return ImageRef(self.registry, repository, None, None)

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def redact(text: str) -> str:
    """``text`` with the ``user:password@`` of any reference and the userinfo of any URL in it
    replaced by ``***@``. A digest after ``@`` (``repo:tag@sha256:...``) is not userinfo, and a
    bare ``name@host`` (an e-mail address) has no secret to hide."""
    return _USERINFO.sub(lambda m: f"{m.group('scheme') or ''}***@", text)


def _without_userinfo(text: str) -> tuple[str, bool]:
    """``text`` as it may be shown, and whether it carries ``user[:password]@`` before its host.

    An ``@`` not followed by ``sha256:``/``sha512:`` is a userinfo separator when what precedes it
    has a ``:`` or what follows it names a host and repository: everything up to it is hidden."""
    cut = -1
    for match in re.finditer("@", text):
        if not text.startswith(("sha256:", "sha512:"), match.end()):
            cut = match.end()
    if cut < 0:
        return text, False
    head, tail = text[: cut - 1], text[cut:]
    if "://" in head or ":" in head.rsplit("/", 1)[-1] or "/" in tail or not tail:
        return f"***@{tail}", True
    return text, False


def parse_reference(text: str) -> ImageRef:
    """Parse and normalise an image reference; ConfigError (exit 2) when malformed.

    Messages never repeat credentials written into the reference (``user:password@host/...``)."""
    original, userinfo = _without_userinfo(text)
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        raise ConfigError(f"{original!r}: not an image reference")
    if userinfo or "://" in text:
        raise ConfigError(
            f"{original}: an image reference cannot carry credentials or a URL scheme; log in with "
            "`docker login HOST` (or a credentials file) and name the image as HOST/REPO:TAG"
        )
    digest: str | None = None
    if "@" in text:
        text, _, digest = text.partition("@")
        if not _DIGEST.match(digest):
            raise ConfigError(f"{original}: malformed digest {digest!r} (expected sha256:<64 hex digits>)")
    tag: str | None = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG.match(tag):
            raise ConfigError(f"{original}: malformed tag {tag!r}")
    first, sep, rest = text.partition("/")
    if sep and _has_registry(first):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, text
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if not _HOST.match(registry):
        raise ConfigError(f"{original}: malformed registry host {registry!r}")
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not _REPO.match(repository):
        raise ConfigError(
            f"{original}: malformed repository {repository!r} (lowercase letters, digits, '.', '_', '-', '/')"
        )
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(registry, repository, tag, digest)


@dataclass(frozen=True)
class Repository:
    """A repository named without tag or digest (``--attestation-repository``), with its registry
    when the name has one."""

    registry: str | None
    repository: str

    def on(self, default_registry: str) -> ImageRef:
        """The repository as an ``ImageRef``: on its own registry, else on ``default_registry``
        (Docker Hub names normalised as in references: ``store`` -> ``library/store``)."""
        ref = parse_reference(f"{self.registry or default_registry}/{self.repository}")
        return ImageRef(ref.registry, ref.repository)


def _has_registry(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost" or first.startswith("[")


def parse_repository(text: str, *, what: str = "--attestation-repository (COSIGN_REPOSITORY)") -> Repository:
    """``[REGISTRY/]REPOSITORY`` (as ``COSIGN_REPOSITORY``): the registry part is kept when the
    first component names a host (has a ``.`` or ``:``, or is ``localhost``); ConfigError when the
    value is not a repository, or names a tag or digest."""
    value = text.strip()
    shown, userinfo = _without_userinfo(value)
    if not value or userinfo or "://" in value or any(c.isspace() for c in value):
        raise ConfigError(f"{what} {shown!r}: expected [REGISTRY/]REPOSITORY, e.g. ghcr.io/org/signatures")
    if "@" in value or ":" in value.rsplit("/", 1)[-1]:
        raise ConfigError(f"{what} {shown!r}: names a repository, not a tag or digest")
    first, sep, rest = value.partition("/")
    registry = first if sep and _has_registry(first) else None
    if registry is not None and not _HOST.match(registry):
        raise ConfigError(f"{what} {shown!r}: malformed registry host {registry!r}")
    if not _REPO.match(rest if registry else value):
        raise ConfigError(
            f"{what} {shown!r}: malformed repository (lowercase letters, digits, '.', '_', '-', '/')"
        )
    return Repository(registry, rest if registry else value)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (with or without a port)."""
    name = host
    if name.startswith("["):
        name = name[1 : name.index("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def api_base(ref: ImageRef, insecure: Collection[str] = ()) -> str:
    """The registry API URL of ``ref``'s repository: plain HTTP for a loopback host or one named
    by ``--insecure-registry`` (``insecure``), HTTPS for every other."""
    host = ref.api_host
    scheme = "http" if (is_loopback(host) or host in insecure) else "https"
    return f"{scheme}://{host}/v2/{ref.repository}"
