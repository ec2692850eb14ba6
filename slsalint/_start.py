"""The ``slsalint`` command: ``check IMAGE`` asks the registry for the image before the command
line is loaded.

Loading the command line (Typer, the checks, the policy and Rego machinery) takes longer than a
registry round trip. When the command names one registry image to check and no option that changes
how registries are read, the first requests of reading it (the image's manifest and the tag list of
the repository its side tags live in) are sent as soon as the registry client is loaded, and the
rest of the command loads while they are answered. The run takes that client only when the
registry settings it ends up with are the ones the client was made with (``take``); otherwise the
client is closed and the run opens its own. What is read and judged is the same either way: the
early answers are those the collector would have asked for first, consumed by it as its own.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    try:
        from slsalint.sources.cache import BlobCache, default_cache_dir
        from slsalint.sources.deadline import Budget
        from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, Limits
        from slsalint.sources.reference import parse_reference, parse_repository
        from slsalint.sources.registry import RegistryClient

        ref = parse_reference(text)
        side = os.environ.get("COSIGN_REPOSITORY", "").strip()
        side_repo = parse_repository(side).on(ref.registry) if side else ref
        limits = Limits()
        budget = Budget(DEFAULT_RUN_TIMEOUT)
        client = RegistryClient(
            cache=BlobCache(default_cache_dir(), max_entry=limits.blob_size),
            limits=limits,
            budget=budget,
        )
    except Exception:  # whatever is wrong is said by the run itself, in its turn
        return
    client.start_manifest(ref, ref.digest or ref.tag or "latest")
    client.start_tag_list(side_repo)
    client.executor().prestart(32)  # the threads of the next round, ready when its answer is
    _early = (client, budget)


def take(
    *,
    offline: bool,
    insecure: frozenset[str],
    registry_ca: tuple[bytes, ...],
    use_cache: bool,
    cache_dir: object,
    timeout: float | None,
    limits: object,
) -> tuple[RegistryClient, Budget] | None:
    """The client started early (and its run budget, started with it) if the run's registry
    settings are the ones it was made with; else None, the early client closed."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, Limits

    if (
        not offline
        and not insecure
        and not registry_ca
        and use_cache
        and cache_dir is None
        and timeout == DEFAULT_RUN_TIMEOUT
        and limits == Limits()
    ):
        return early
    early[0].close()
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
