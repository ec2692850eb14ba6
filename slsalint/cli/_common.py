"""Helpers shared by the commands: error output, report output destinations, and the option
definitions several commands share (each written once here as an ``Annotated`` alias)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from slsalint.errors import ConfigError

if TYPE_CHECKING:
    from slsalint.sources.github import GitHubSettings
    from slsalint.sources.limits import Limits

DEFAULT_GITHUB_API_URL = "https://api.github.com"

# -- options shared by check, fetch and explain ---------------------------------------------------

InsecureRegistryOption = Annotated[
    list[str],
    typer.Option("--insecure-registry", help="Allow plain HTTP to this registry host[:port] (repeatable)."),
]
AttestationRepositoryOption = Annotated[
    str | None,
    typer.Option(
        "--attestation-repository",
        help="Repository holding cosign .att/.sig tags (like COSIGN_REPOSITORY).",
        envvar="COSIGN_REPOSITORY",
    ),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Do not use the on-disk manifest/blob cache.")
]
OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Never use the network (OCI layouts and files are always read offline)."),
]
GitHubAttestationsOption = Annotated[
    list[str],
    typer.Option(
        "--github-attestations",
        metavar="OWNER[/REPO]",
        help="Also read GitHub's attestations API for OWNER/REPO, or every repository of OWNER "
        "(repeatable; token from GITHUB_TOKEN or GH_TOKEN).",
    ),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds the whole run may spend reading registries and GitHub, retries included; "
        "then exit 3 (default 600; 0: no limit).",
    ),
]
LimitOption = Annotated[
    list[str],
    typer.Option(
        "--limit",
        metavar="NAME=VALUE",
        help="Change one time or size limit, e.g. request-timeout=60, blob-size=128M (repeatable; "
        "the list is in docs/registries.md).",
    ),
]
ImageNameOption = Annotated[
    str | None,
    typer.Option(
        "--image-name",
        metavar="REF",
        help="Judge the image of an oci: layout as this registry image (components, exceptions and "
        "reports see REF); a snapshot from `slsalint fetch` records it already.",
    ),
]
GitHubApiUrlOption = Annotated[
    str,
    typer.Option(
        "--github-api-url",
        envvar="GITHUB_API_URL",
        help="GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3).",
    ),
]

# -- signature options --------------------------------------------------------------------------

CertificateIdentityOption = Annotated[
    str | None,
    typer.Option("--certificate-identity", help="Expected signer identity (certificate SAN), exact."),
]
CertificateIdentityRegexpOption = Annotated[
    str | None,
    typer.Option("--certificate-identity-regexp", help="Expected signer identity, regular expression."),
]
CertificateOidcIssuerOption = Annotated[
    str | None,
    typer.Option("--certificate-oidc-issuer", help="Expected OIDC issuer of the signing certificate, exact."),
]
CertificateOidcIssuerRegexpOption = Annotated[
    str | None,
    typer.Option("--certificate-oidc-issuer-regexp", help="Expected OIDC issuer, regular expression."),
]
KeyOption = Annotated[
    list[Path], typer.Option("--key", help="PEM public key of an allowed signer (repeatable).")
]
AnnotationsOption = Annotated[
    list[str],
    typer.Option("--annotations", help="Required image-signature annotation k=v (repeatable; SL206)."),
]
TrustedRootOption = Annotated[
    Path | None,
    typer.Option(
        "--trusted-root", help="Sigstore trusted_root.json (default: the public-good root shipped)."
    ),
]


def network_limits(timeout: float | None, limits: list[str]) -> tuple[float | None, Limits]:
    """``--timeout`` and ``--limit`` -> (the run's budget in seconds or None, the limits); exit 2
    for bad values."""
    from slsalint.sources.limits import parse_limits, parse_timeout

    return parse_timeout(timeout), parse_limits(limits)


def github_settings(owners: list[str], api_url: str) -> GitHubSettings | None:
    """``--github-attestations`` / ``--github-api-url`` (token from the environment) -> settings;
    None when no owner is given. Bad values are usage errors (exit 2)."""
    if not owners:
        return None
    from slsalint.sources.github import GitHubSettings, parse_api_url, parse_owner, token_from_env

    parsed = tuple(dict.fromkeys(parse_owner(o) for o in owners))
    return GitHubSettings(owners=parsed, api_url=parse_api_url(api_url), token=token_from_env())


def insecure_hosts_option(values: list[str]) -> frozenset[str]:
    """``--insecure-registry`` values, checked; the registry client (and its HTTP stack) is
    imported only when some are given."""
    if not values:
        return frozenset()
    from slsalint.sources.registry import insecure_hosts

    return insecure_hosts(values)


def read_images_text(images: Path) -> str:
    """The text of ``--images FILE`` (``-``: standard input), bounded; exit 2 when unreadable."""
    from slsalint import fileio
    from slsalint.fleet import MAX_LIST_BYTES

    if str(images) == "-":
        data = sys.stdin.buffer.read(MAX_LIST_BYTES + 1)
        if len(data) > MAX_LIST_BYTES:
            raise ConfigError(f"--images -: standard input is over the limit of {MAX_LIST_BYTES} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"--images -: not UTF-8 text (byte {exc.start})") from None
    try:
        return fileio.read_text(images, limit=MAX_LIST_BYTES)
    except fileio.FileReadError as exc:
        raise ConfigError(f"--images {exc}") from None


@dataclass
class _State:
    debug: bool = False


STATE = _State()


def _clean(message: str) -> str:
    """One line, with no terminal control characters and no credentials (``user:password@``)."""
    from slsalint.sources.reference import redact

    line = redact(" ".join(message.split()))
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in line)


def fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"slsalint: error: {_clean(message)}\n")
    sys.stderr.flush()
    sys.exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"slsalint: warning: {_clean(message)}\n")


@dataclass(frozen=True)
class Output:
    fmt: str
    path: Path | None
    """None means standard output."""


def parse_outputs(formats: list[str], output: Path | None) -> list[Output]:
    """``--format text --format sarif=out.sarif -o report.txt`` -> destinations.

    A format without ``=PATH`` goes to ``-o`` when given, else to standard output; only one format
    may go to each destination.
    """
    from slsalint.report import FORMATS

    outs: list[Output] = []
    for item in formats or ["text"]:
        fmt, sep, path = item.partition("=")
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise ConfigError(f"--format {item}: unknown format (expected one of {', '.join(FORMATS)})")
        if sep and not path:
            raise ConfigError(f"--format {item}: missing path after '='")
        outs.append(Output(fmt, Path(path) if sep else None))
    bare = [o for o in outs if o.path is None]
    if len(bare) > 1:
        raise ConfigError("several --format values without =PATH: give each but one its own path")
    if output is not None:
        if not bare:
            raise ConfigError("-o/--output given but every --format has its own =PATH")
        outs = [Output(o.fmt, output) if o.path is None else o for o in outs]
    seen: set[Path] = set()
    for o in outs:
        if o.path is not None:
            if o.path in seen:
                raise ConfigError(f"{o.path}: named as the destination of two formats")
            seen.add(o.path)
    return outs


def write_output(path: Path, text: str) -> None:
    """Write a report file atomically (a reader never sees half a report)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write report: {exc.strerror or exc}") from None


def use_color(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """A transient status line on stderr while the registry is read, only when stderr is a terminal."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._status: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty() and not os.environ.get("CI"):
            from rich.console import Console

            self._status = Console(stderr=True).status(f"reading {self.what}", spinner="dots")
            self._status.__enter__()
        return self

    def update(self, requests: int) -> None:
        if self._status is not None:
            self._status.update(f"reading {self.what}: {requests} requests")

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)
