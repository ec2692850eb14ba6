"""Rego source text: a scanner that finds packages, rule heads, imports and calls, and the
``# METADATA`` blocks (OPA's annotation format) that give rules their identity.

Nothing here evaluates Rego: the scanner reads the text the way the engine will, well enough to
attribute every ``deny``/``warn`` definition to its metadata and line, and to know which functions
a module calls (they must be built-ins of the engine or defined by the loaded modules).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slsalint.errors import ConfigError

MAX_NESTING = 12
"""Deepest nesting of braces and brackets (rule bodies, objects, arrays, sets, comprehensions)
accepted in a module. Real policies stay under 8. The engine's parser takes time that grows
exponentially with this depth (measured: 0.2 s at 10 levels of nested object and array literals,
8 s at 14, 62 s at 16), so deeper text is refused before the engine sees it."""
MAX_METADATA = 64 * 1024
"""Largest ``# METADATA`` block, in characters."""
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PACKAGE = re.compile(rf"^package\s+({_IDENT}(?:\.{_IDENT})*)\s*(?:#.*)?$")
_HEAD = re.compile(rf"^({_IDENT})\b")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass(frozen=True)
class Metadata:
    """One ``# METADATA`` block."""

    line: int
    scope: str
    title: str | None = None
    description: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    related: tuple[str, ...] = ()


class NestingError(ValueError):
    """The text nests deeper than :data:`MAX_NESTING`."""

    def __init__(self, line: int) -> None:
        super().__init__(
            f"braces and brackets nest deeper than {MAX_NESTING} levels (the Rego engine's parser "
            "slows down exponentially with nesting; see docs/rego.md)"
        )
        self.line = line


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    top: bool
    """The line starts outside any brace, bracket, parenthesis or raw string."""


def scan(text: str) -> list[Line]:
    """Split ``text`` into lines, marking those that start at nesting depth 0."""
    lines: list[Line] = []
    depth = brackets = 0
    in_string = in_raw = in_comment = escape = False
    top = True
    start = 0
    number = 1
    for index, ch in enumerate(text):
        if ch == "\n":
            lines.append(Line(number, text[start:index], top))
            number += 1
            start = index + 1
            in_comment = False
            in_string = False  # a plain string cannot span lines (the engine reports it)
            escape = False
            top = depth <= 0 and not in_raw
            continue
        if in_comment:
            continue
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if in_raw:
            if ch == "`":
                in_raw = False
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch == "`":
            in_raw = True
        elif ch in "{[(":
            depth += 1
            if ch != "(":
                brackets += 1
                if brackets > MAX_NESTING:
                    raise NestingError(number)
        elif ch in "}])":
            depth -= 1
            if ch != ")":
                brackets -= 1
    if start <= len(text):
        lines.append(Line(number, text[start:], top))
    return lines


def safe_yaml(body: str, path: Path, line: int, *, limit: int = MAX_METADATA, what: str = "") -> Any:
    """YAML text that starts on ``line`` of ``path``, read without aliases and bounded in size;
    ConfigError naming the file and line for anything else."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent

    where = display_path(path)
    if len(body) > limit:
        raise ConfigError(f"{where}:{line}: YAML larger than {limit} characters")
    try:
        yaml = YAML(typ="safe", pure=True)
        if any(isinstance(event, AliasEvent) for event in yaml.parse(body)):
            raise ConfigError(f"{where}:{line}: YAML aliases are not accepted{what or ' here'}")
        return yaml.load(body) if body.strip() else None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = line + mark.line if mark is not None else line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}:{at}: invalid YAML{what}: {problem}") from None
    except (RecursionError, TypeError, ValueError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
        raise ConfigError(f"{where}:{line}: invalid YAML{what}: {problem}") from None


def parse_metadata(path: Path, line: int, comments: list[str]) -> Metadata:
    """One ``# METADATA`` block: the comment lines after the ``# METADATA`` line ``line``."""
    body = textwrap.dedent("\n".join(c.lstrip()[1:] for c in comments))
    data = safe_yaml(body, path, line + 1, what=" in # METADATA")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{display_path(path)}:{line}: # METADATA must be a YAML mapping")
    where = f"{display_path(path)}:{line}"
    scope = data.get("scope")
    if scope is not None and scope not in ("rule", "document", "package", "subpackages"):
        raise ConfigError(f"{where}: # METADATA scope {scope!r}: expected rule, document or package")
    custom = data.get("custom") or {}
    if not isinstance(custom, dict):
        raise ConfigError(f"{where}: # METADATA custom must be a mapping")
    for key in ("title", "description"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise ConfigError(f"{where}: # METADATA {key} must be a string")
    related: list[str] = []
    resources = data.get("related_resources") or []
    if not isinstance(resources, list):
        raise ConfigError(f"{where}: # METADATA related_resources must be a list")
    for item in resources:
        ref = item.get("ref") if isinstance(item, dict) else item
        if isinstance(ref, str):
            related.append(ref)
    return Metadata(
        line=line,
        scope=str(scope or ""),
        title=data.get("title"),
        description=data.get("description"),
        custom={str(k): v for k, v in custom.items()},
        related=tuple(related),
    )


@dataclass
class Head:
    line: Line
    name: str
    rest: str
    metadata: Metadata | None
    default: bool = False


def structure(path: Path, text: str) -> tuple[str, int, Metadata | None, list[Head], list[Line]]:
    """(package, package line, package metadata, top-level rule heads, lines) of one module."""
    where = display_path(path)
    try:
        lines = scan(text)
    except NestingError as exc:
        raise ConfigError(f"{where}:{exc.line}: {exc}") from None
    package: str | None = None
    package_line = 0
    package_meta: Metadata | None = None
    heads: list[Head] = []
    pending: Metadata | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.text.strip()
        if not line.top or not stripped:
            if pending is not None and line.top and not stripped:
                raise ConfigError(
                    f"{where}:{pending.line}: # METADATA must be directly followed by the package or a rule"
                )
            index += 1
            continue
        if stripped.startswith("#"):
            if stripped == "# METADATA" or stripped == "#METADATA":
                start = index
                block: list[str] = []
                index += 1
                while index < len(lines) and lines[index].text.strip().startswith("#"):
                    block.append(lines[index].text)
                    index += 1
                pending = parse_metadata(path, lines[start].number, block)
                continue
            index += 1
            continue
        match = _PACKAGE.match(stripped)
        if re.match(r"package\b(?!\s*:?=)", stripped):
            if match is None:
                raise ConfigError(
                    f"{where}:{line.number}: unsupported package name (use dotted identifiers: a.b.c)"
                )
            if package is not None:
                raise ConfigError(f"{where}:{line.number}: a second package statement")
            package, package_line, package_meta = match.group(1), line.number, pending
            pending = None
            index += 1
            continue
        if re.match(r"import\b(?!\s*:?=)", stripped):
            if pending is not None:
                raise ConfigError(
                    f"{where}:{pending.line}: # METADATA must be directly followed by the package or a rule"
                )
            index += 1
            continue
        default = False
        body = stripped
        if body.startswith("default "):
            default, body = True, body[len("default ") :].lstrip()
        head = _HEAD.match(body)
        if head is not None:
            if package is None:
                raise ConfigError(f"{where}:{line.number}: rule before the package statement")
            meta = pending
            if meta is not None and meta.scope in ("package", "subpackages"):
                package_meta = merge_package(package_meta, meta)
                meta = None
            heads.append(Head(line, head.group(1), body[head.end() :], meta, default))
        pending = None
        index += 1
    if package is None:
        raise ConfigError(f"{where}: no package statement")
    return package, package_line, package_meta, heads, lines


_KEYWORDS = frozenset(
    {"if", "in", "not", "some", "every", "contains", "else", "with", "as", "default", "import", "package"}
)
_LEXEMES = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_CALL = re.compile(r"(?<![\w.$\]])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")
_IMPORT = re.compile(r"^import\s+(data|input)((?:\.[A-Za-z_]\w*)*)(?:\s+as\s+([A-Za-z_]\w*))?")


def calls(text: str) -> dict[str, int]:
    """Every ``name(`` / ``a.b.c(`` outside strings and comments, with the line of its first use."""

    def blank(match: re.Match[str]) -> str:
        token = match.group(0)
        return "" if token.startswith("#") else '""' + "\n" * token.count("\n")

    code = _LEXEMES.sub(blank, text)
    out: dict[str, int] = {}
    for match in _CALL.finditer(code):
        out.setdefault(match.group(1), code.count("\n", 0, match.start()) + 1)
    return out


def import_aliases(lines: list[Line]) -> set[str]:
    out = set()
    for line in lines:
        match = _IMPORT.match(line.text.strip()) if line.top else None
        if match:
            path = match.group(2).split(".")
            out.add(match.group(3) or (path[-1] if len(path) > 1 else match.group(1)))
    return out


def statement_end(lines: list[Line], first: int) -> int:
    """Last line of the top-level statement starting on line ``first`` (1-based): the lines up to
    the next one that starts a statement or a comment at nesting depth 0."""
    last = first
    for line in lines[first:]:
        if line.top and line.text.strip():
            break
        if line.text.strip():
            last = line.number
    return last


def merge_package(first: Metadata | None, second: Metadata) -> Metadata:
    if first is None:
        return second
    return Metadata(
        line=first.line,
        scope=first.scope,
        title=second.title or first.title,
        description=second.description or first.description,
        custom={**first.custom, **second.custom},
        related=first.related + second.related,
    )
