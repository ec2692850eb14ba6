"""Helpers shared by the commands: error output, report output destinations, and the option
definitions several commands share (each written once here as an ``Annotated`` alias)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from slsalint.errors import ConfigError, OperationalError, SlsalintError

if TYPE_CHECKING:
    from slsalint.exceptions import ExceptionsFile
    from slsalint.model import Level
    from slsalint.policy import Policy
    from slsalint.signing import SigningSettings
    from slsalint.sources.github import GitHubSettings
    from slsalint.sources.limits import Limits

DEFAULT_GITHUB_API_URL = "https://api.github.com"

# -- options shared by check, fetch and explain ---------------------------------------------------

InsecureRegistryOption = Annotated[
    list[str],
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Allow plain HTTP to this registry host[:port] (repeatable).",
    ),
]
RegistryCaOption = Annotated[
    list[Path],
    typer.Option(
        "--registry-ca",
        metavar="FILE",
        help="Also trust the PEM CA certificates in FILE for HTTPS to registries, in addition to "
        "the bundled store or SSL_CERT_FILE (repeatable).",
    ),
]
AttestationRepositoryOption = Annotated[
    str | None,
    typer.Option(
        "--attestation-repository",
        metavar="[REGISTRY/]REPO",
        help="Read cosign .sig/.att tags, referrers and Sigstore bundles from this repository, on "
        "the registry it names (else the image's), like cosign's COSIGN_REPOSITORY; the flag "
        "wins over that variable.",
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
        metavar="URL",
        envvar="GITHUB_API_URL",
        help="GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3).",
    ),
]

# -- policy options shared by check and explain -------------------------------------------------

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy", "-p", metavar="FILE", help="Policy file (default: ./slsalint.yaml when present)."
    ),
]
ExceptionsOption = Annotated[
    Path | None,
    typer.Option(
        "--exceptions",
        metavar="FILE",
        help="Exceptions file (instead of the one the policy names): reviewed, time-limited waivers.",
    ),
]
PackOption = Annotated[
    list[str],
    typer.Option("--pack", metavar="PACK", help="Rule pack to run instead of the policy's (repeatable)."),
]
EnableOption = Annotated[
    list[str], typer.Option("--enable", metavar="RULE", help="Enable a rule by id or name (repeatable).")
]
DisableOption = Annotated[
    list[str], typer.Option("--disable", metavar="RULE", help="Disable a rule by id or name (repeatable).")
]
RegoOption = Annotated[
    list[Path],
    typer.Option(
        "--rego", metavar="DIR", help="Directory (or file) of Rego rules to evaluate as well (repeatable)."
    ),
]
RegoTimeoutOption = Annotated[
    float,
    typer.Option(
        "--rego-timeout",
        min=0.1,
        metavar="SECONDS",
        help="Seconds one Rego rule may take on one attestation.",
    ),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="LEVEL",
        help="Lowest level that fails the run: error (default), warning or note.",
    ),
]

# -- signature options --------------------------------------------------------------------------

CertificateIdentityOption = Annotated[
    str | None,
    typer.Option(
        "--certificate-identity",
        metavar="IDENTITY",
        help="Expected signer identity (certificate SAN), exact.",
    ),
]
CertificateIdentityRegexpOption = Annotated[
    str | None,
    typer.Option(
        "--certificate-identity-regexp", metavar="REGEX", help="Expected signer identity, regular expression."
    ),
]
CertificateOidcIssuerOption = Annotated[
    str | None,
    typer.Option(
        "--certificate-oidc-issuer",
        metavar="URL",
        help="Expected OIDC issuer of the signing certificate, exact.",
    ),
]
CertificateOidcIssuerRegexpOption = Annotated[
    str | None,
    typer.Option(
        "--certificate-oidc-issuer-regexp", metavar="REGEX", help="Expected OIDC issuer, regular expression."
    ),
]
KeyOption = Annotated[
    list[Path],
    typer.Option("--key", metavar="FILE", help="PEM public key of an allowed signer (repeatable)."),
]
AnnotationsOption = Annotated[
    list[str],
    typer.Option(
        "--annotations",
        metavar="KEY=VALUE",
        help="Required image-signature annotation k=v (repeatable; SL206).",
    ),
]
TrustedRootOption = Annotated[
    Path | None,
    typer.Option(
        "--trusted-root",
        metavar="FILE",
        help="Sigstore trusted_root.json (default: the public-good root shipped).",
    ),
]


def network_limits(timeout: float | None, limits: list[str]) -> tuple[float | None, Limits]:
    """``--timeout`` and ``--limit`` -> (the run's budget in seconds or None, the limits); exit 2
    for bad values."""
    from slsalint.sources.limits import parse_limits, parse_timeout

    return parse_timeout(timeout), parse_limits(limits)


@dataclass(frozen=True)
class PolicyFlags:
    """What ``check`` and ``explain`` judge with: the policy, its exceptions and the signers."""

    policy: Policy
    exceptions: ExceptionsFile | None
    signing: SigningSettings


def load_policy_flags(
    policy: Path | None,
    exceptions: Path | None,
    *,
    certificate_identity: str | None = None,
    certificate_identity_regexp: str | None = None,
    certificate_oidc_issuer: str | None = None,
    certificate_oidc_issuer_regexp: str | None = None,
    key: list[Path] | None = None,
    annotations: list[str] | None = None,
    trusted_root: Path | None = None,
) -> PolicyFlags:
    """``--policy`` (default ``./slsalint.yaml`` when present), ``--exceptions`` (default the
    policy's) and the signer flags, loaded and validated before anything is read: a bad file is
    exit 2, never ignored."""
    from slsalint.exceptions import load_for_policy
    from slsalint.policy import Policy, default_policy, load_policy
    from slsalint.signing import settings_from_flags

    if policy is not None:
        loaded = load_policy(policy)
    elif (found := default_policy()) is not None:
        loaded = load_policy(found)
    else:
        loaded = Policy()
    exceptions_path = exceptions or loaded.exceptions
    waivers = load_for_policy(exceptions_path, loaded) if exceptions_path is not None else None
    signing = settings_from_flags(
        identity=certificate_identity,
        identity_regexp=certificate_identity_regexp,
        issuer=certificate_oidc_issuer,
        issuer_regexp=certificate_oidc_issuer_regexp,
        keys=key or [],
        annotations=annotations or [],
        trusted_root=trusted_root,
        policy_signers=loaded.signers,
    )
    return PolicyFlags(loaded, waivers, signing)


def parse_fail_on(fail_on: str | None) -> Level | None:
    """``--fail-on error|warning|note`` (None: the policy's, else error)."""
    from slsalint.model import Level

    if fail_on is None:
        return None
    try:
        level = Level(fail_on.lower())
    except ValueError:
        raise ConfigError(f"--fail-on {fail_on}: expected error, warning or note") from None
    if level is Level.OFF:
        raise ConfigError("--fail-on off: expected error, warning or note")
    return level


TEXT_OR_JSON = ("text", "json")


def text_or_json(value: str, *, json_alias: bool = False) -> str:
    """``--format text|json`` of a listing or result (``--json``, the older spelling, wins)."""
    if json_alias:
        return "json"
    fmt = value.strip().lower()
    if fmt not in TEXT_OR_JSON:
        from slsalint.suggest import did_you_mean

        raise ConfigError(f"--format {value}: expected text or json{did_you_mean(fmt, TEXT_OR_JSON)}")
    return fmt


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


def registry_ca_option(paths: list[Path]) -> tuple[bytes, ...]:
    """The certificates of every ``--registry-ca FILE``, read now (exit 2 naming a file that is
    not PEM certificates)."""
    if not paths:
        return ()
    from slsalint.sources.network import read_ca_files

    return read_ca_files(paths)


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
    quiet: bool = False
    """``slsalint --quiet``: no progress, notes or warnings; text reports show what fails only."""
    verbose: bool = False
    """``slsalint --verbose``: :func:`info` lines on stderr."""
    started: float = field(default_factory=time.perf_counter)


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
    """A warning on stderr (none with ``--quiet``)."""
    if not STATE.quiet:
        sys.stderr.write(f"slsalint: warning: {_clean(message)}\n")


def note(message: str) -> None:
    """A note on stderr (none with ``--quiet``)."""
    if not STATE.quiet:
        sys.stderr.write(f"slsalint: {_clean(message)}\n")


def info(message: str) -> None:
    """With ``--verbose``: one line on stderr, with the seconds since the run started."""
    if STATE.verbose:
        elapsed = time.perf_counter() - STATE.started
        sys.stderr.write(f"slsalint: [{elapsed:6.2f}s] {_clean(message)}\n")
        sys.stderr.flush()


@dataclass(frozen=True)
class Output:
    fmt: str
    path: Path | None
    """None means standard output."""

    @property
    def appends(self) -> bool:
        """Markdown written to a file is appended (``$GITHUB_STEP_SUMMARY`` is shared by the steps
        of a job); every other report replaces its file atomically."""
        return self.fmt == "markdown" and self.path is not None


def parse_outputs(formats: list[str], output: Path | None) -> list[Output]:
    """``--format text --format sarif=out.sarif -o report.txt`` -> destinations.

    A format without ``=PATH`` goes to ``-o`` when given, else to standard output; only one format
    may go to each destination. Every file destination is checked now (:func:`check_destination`),
    before anything is read, so an unwritable path is exit 2 and not a lost report at the end.
    """
    from slsalint.report import FORMATS

    outs: list[Output] = []
    for item in formats or ["text"]:
        fmt, sep, path = item.partition("=")
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            from slsalint.suggest import did_you_mean

            hint = did_you_mean(fmt, FORMATS)
            raise ConfigError(f"--format {item}: unknown format{hint} (expected one of {', '.join(FORMATS)})")
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
    seen: set[str] = set()
    for o in outs:
        if o.path is not None:
            key = os.path.abspath(o.path)  # noqa: PTH100
            if key in seen:
                raise ConfigError(f"{o.path}: named as the destination of two formats")
            seen.add(key)
            check_destination(o.path)
    return outs


def check_destination(path: Path) -> None:
    """Raise ConfigError (exit 2, one line naming ``path``) when a report cannot be written there:
    a directory, a parent that is a file, a directory that is not writable."""
    absolute = Path(os.path.abspath(path))  # noqa: PTH100
    try:
        if absolute.is_dir():
            raise ConfigError(f"{path}: is a directory, not a report file")
        for parent in absolute.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ConfigError(f"{path}: cannot write report: {parent} is not a directory")
                if (
                    absolute.parent == parent
                    and not absolute.exists()
                    and not os.access(parent, os.W_OK | os.X_OK)
                ):
                    raise ConfigError(f"{path}: cannot write report: directory {parent} is not writable")
                break
        if absolute.exists() and not os.access(absolute, os.W_OK):
            raise ConfigError(f"{path}: cannot write report: permission denied")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write report: {exc.strerror or exc}") from None


def existing_size(path: Path) -> int:
    """Bytes a regular file already holds (0 when absent or not a regular file)."""
    try:
        st = path.stat()
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def write_output(path: Path, text: str, *, append: bool = False) -> None:
    """Write a report file: atomically (a reader never sees half a report), or appended.

    A symbolic link is followed. A destination that exists and is not a regular file is never
    replaced: a terminal, a pipe or a device such as ``/dev/stdout`` or ``/dev/null`` is written
    to as it is (a FIFO without a reader is an error rather than a wait); a directory, a socket or
    a block device is refused. A wrong destination is exit 2, a full or failing disk exit 3."""
    tmp: Path | None = None
    try:
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        try:
            mode: int | None = target.stat().st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
                kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file, a terminal or a pipe"
                raise ConfigError(f"{path}: cannot write report: is {kind}")
            _write_stream(path, target, text)
            return
        if not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        if append:
            with target.open("a", encoding="utf-8") as stream:
                stream.write(text)
            return
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        tmp = None
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):  # e.g. the parent is a file: there is no tmp to remove
                tmp.unlink()


def _write_stream(path: Path, target: Path, text: str) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise ConfigError(f"{path}: cannot write report: a FIFO with no reader") from None
        raise _write_error(path, exc) from None
    try:
        os.set_blocking(fd, True)  # O_NONBLOCK was only for the open
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> SlsalintError:
    """A report that cannot be written: a wrong destination is exit 2, a full or failing disk 3."""
    message = f"{path}: cannot write report: {exc.strerror or exc}"
    if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS):
        return OperationalError(message)
    return ConfigError(message)


def use_color(stream: object) -> bool:
    """Colour for a terminal: never with NO_COLOR or TERM=dumb, always with FORCE_COLOR."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """A transient status line on stderr while evidence is read, only on an interactive terminal
    (not in CI, not under TERM=dumb): which target of how many, and the requests made so far."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.requests = 0
        self._status: Any = None

    def __enter__(self) -> Progress:
        interactive = (
            sys.stderr.isatty()
            and not os.environ.get("CI")
            and os.environ.get("TERM") != "dumb"
            and not STATE.quiet
        )
        if interactive:
            from rich.console import Console

            self._status = Console(stderr=True, highlight=False).status(self._line(), spinner="dots")
            self._status.__enter__()
        return self

    def _line(self) -> Any:
        from rich.text import Text

        from slsalint.report._common import sanitize

        count = f": {self.requests} requests" if self.requests else ""
        return Text(f"reading {sanitize(self.what)}{count}")  # never parsed as console markup

    def update(self, requests: int) -> None:
        self.requests = requests
        if self._status is not None:
            self._status.update(self._line())

    def target(self, number: int, count: int, reference: str) -> None:
        """The check of target ``number`` of ``count`` starts."""
        self.what = reference if count == 1 else f"{number}/{count} {reference}"
        if self._status is not None:
            self._status.update(self._line())

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)
