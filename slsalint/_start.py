"""The ``slsalint`` command: ``check IMAGE`` asks the registry for the image before the command
line is loaded.

Loading the command line (Typer, the checks, the policy and Rego machinery) takes longer than a
registry round trip. When the command names one registry image to check and no option that changes
how registries are read, the first requests of reading it (the image's manifest and the tag list of
the repository its side tags live in) are sent at once, on connections of their own, before even
httpx loads (``slsalint.sources.presend``); the registry client then loads and takes their answers
as those of the requests it sends first, and the rest of the command loads while they are answered.
The run takes that client only when the registry settings it ends up with are the ones the client
was made with (``take``); otherwise the client is closed and the run opens its own. What is read and
judged is the same either way: the early answers are those the collector would have asked for
first, consumed by it as its own.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slsalint.engine import RegistrySettings
    from slsalint.sources.deadline import Budget
    from slsalint.sources.registry import RegistryClient

GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "--debug"})
"""``slsalint`` options before the command (none changes how registries are read)."""

SAFE_VALUE_OPTIONS = frozenset(
    {
        "--pack",
        "--policy",
        "-p",
        "--exceptions",
        "--format",
        "-f",
        "--output",
        "-o",
        "--fail-on",
        "--platform",
        "--enable",
        "--disable",
        "--rego",
        "--rego-timeout",
        "--rego-isolation",
        "--sarif-anchor",
        "--sarif-category",
        "--sarif-root",
        "--docs-url",
        "--certificate-identity",
        "--certificate-identity-regexp",
        "--certificate-oidc-issuer",
        "--certificate-oidc-issuer-regexp",
        "--key",
        "--annotations",
        "--trusted-root",
    }
)
"""``check`` options taking a value that do not change how registries are read (a test keeps this
list true to the command)."""

SAFE_FLAGS = frozenset({"--no-color"})
"""``check`` flags that do not change how registries are read."""

_early: tuple[RegistryClient, Budget] | None = None


def registry_target(args: list[str]) -> str | None:
    """The registry image of ``[GLOBAL FLAGS] check IMAGE [safe options]``, else None (another
    command, a layout or files, several images, help, or any option not known to be safe)."""
    rest = list(args)
    while rest and rest[0] in GLOBAL_FLAGS:
        rest.pop(0)
    if not rest or rest[0] != "check":
        return None
    targets: list[str] = []
    words = iter(rest[1:])
    for word in words:
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name in SAFE_FLAGS and "=" not in word:
                continue
            if name not in SAFE_VALUE_OPTIONS:
                return None
            if "=" not in word and next(words, None) is None:
                return None
            continue
        targets.append(word)
    if len(targets) != 1 or targets[0].startswith("oci:"):
        return None
    return targets[0]


def start(args: list[str]) -> None:
    """Send the first requests of checking the command's registry image, if it names one."""
    global _early
    text = registry_target(args)
    if text is None:
        return
    side = os.environ.get("COSIGN_REPOSITORY", "").strip() or None  # check's --attestation-repository
    try:
        # Sent before httpx and the client load (about 60 ms); the client takes their answers.
        from slsalint.sources.presend import start as presend

        presends = presend(text, side)
        from slsalint.sources.cache import BlobCache, default_cache_dir
        from slsalint.sources.deadline import Budget
        from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, Limits
        from slsalint.sources.registry import RegistryClient
        from slsalint.sources.remote import RemoteCollector

        limits = Limits()
        budget = Budget(DEFAULT_RUN_TIMEOUT)
        client = RegistryClient(
            cache=BlobCache(default_cache_dir(), max_entry=limits.blob_size),
            limits=limits,
            budget=budget,
        )
        client.adopt_presends(presends)
        RemoteCollector(client, attestation_repository=side).start(text)
    except Exception:  # whatever is wrong is said by the run itself, in its turn
        return
    _early = (client, budget)


def take(settings: RegistrySettings) -> RegistryClient | None:
    """The client started early, when the run's registry settings are the ones it was made with
    (the run then uses its budget, started with it, and counts its requests); else None, the
    early client closed."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, Limits

    client, budget = early
    if (
        not settings.offline
        and not settings.insecure
        and not settings.registry_ca
        and settings.use_cache
        and settings.cache_dir is None
        and settings.timeout == DEFAULT_RUN_TIMEOUT
        and settings.limits == Limits()
    ):
        settings.adopt_budget(budget)
        client.stats.progress = settings.progress
        return client
    client.close()
    return None


def main() -> None:
    """The ``slsalint`` console script."""
    # httpx's package imports its own command line (``httpx._main``: click, rich, pygments; about
    # 60 ms) when it can, and falls back to a stub when that import fails. The slsalint command
    # never runs httpx's command line: mark that module absent (see ``slsalint.cli``).
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    start(sys.argv[1:])
    from slsalint.cli import main as cli_main

    cli_main()
