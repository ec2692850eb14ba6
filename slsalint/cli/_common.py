"""Helpers shared by the commands: error output, report output destinations."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from slsalint.errors import ConfigError


@dataclass
class _State:
    debug: bool = False


STATE = _State()


def _clean(message: str) -> str:
    """One line, with no terminal control characters."""
    line = " ".join(message.split())
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
