"""``slsalint init``: write a commented starter policy for the detected use."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from slsalint.cli._common import STATE
from slsalint.errors import ConfigError


def init(
    use: str = typer.Option(
        "gate",
        "--use",
        help="gate: a CI gate for this repository's images; components: many images, each mapped "
        "to its repository and ref (Fleet-style).",
        metavar="gate|components",
    ),
    output: Path = typer.Option(
        Path("slsalint.yaml"), "--output", "-o", metavar="FILE", help="File to write."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    directory: Path = typer.Option(Path(), "--dir", help="Project checkout to look at.", metavar="DIR"),
) -> None:
    """Write a commented starter slsalint.yaml.

    It looks at DIR (default: the current directory) for .github/workflows or .gitlab-ci.yml and
    at the git remote `origin` to fill in the expected signer identity and source repository;
    what it cannot detect is left as a visible ORG/REPO placeholder.

    Examples:

    \b
      slsalint init                      # CI gate for this repository
      slsalint init --use components     # many images (Fleet-style components)
      slsalint init -o policy/slsalint.yaml --force
    """
    from slsalint import starter
    from slsalint.policy import load_policy
    from slsalint.suggest import unknown

    if use not in starter.USES:
        raise ConfigError(unknown("--use value", use, starter.USES))
    if output.exists() and not force:
        raise ConfigError(f"{output} exists; use --force to overwrite it")
    text = starter.render(use, starter.detect(directory))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write: {exc.strerror or exc}") from None
    load_policy(output)  # what we wrote must be a valid policy
    sys.stdout.write(f"wrote {output}\n")
    if not STATE.quiet:
        sys.stdout.write(f"next: slsalint rules list --policy {output}\n")
