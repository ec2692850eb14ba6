"""Rego rules: loading, metadata, the engine interface and its regopy backend, findings, pack tests.

A Rego rule is a partial set rule named ``deny`` (level error) or ``warn`` (level warning) in any
package. Its identity and documentation come from ``# METADATA`` comment blocks (OPA's annotation
format), scoped to the rule or to the package: ``title``, ``description``, ``custom.id`` (required,
e.g. ``ORG001``; the ``SL`` prefix is reserved for built-in rules), ``custom.severity`` (error,
warning or note), optionally ``custom.name`` and ``related_resources``. Each result is a string or
an object with a string ``msg`` (optionally ``pointer``, ``expected``, ``actual``, ``remediation``).

The engine runs out of process (:class:`RegopyWorker`, see :mod:`slsalint.rego_worker`): one worker
per run, a bounded time per evaluation, and any crash, hang or garbage answer becomes an SL904
finding naming the file and the rule. Nothing here imports regopy.

Module sources are parsed here (not by the engine) to find packages, rule heads and metadata. For
evaluation, each ``deny``/``warn`` definition is renamed to an internal rule (``slsalint__rN``) so
every result can be attributed to the definition (and metadata) that produced it; ``deny`` and
``warn`` are re-defined as the union of the renamed rules so references to them keep working.
Line numbers are unchanged by the rewrite.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from slsalint.errors import ConfigError
from slsalint.model import JSON, Finding, Level, PlatformTarget, RuleMeta, Target

if TYPE_CHECKING:
    from slsalint.engine import LintOptions
    from slsalint.model import Attestation
    from slsalint.policy import Policy

DEFAULT_TIMEOUT = 10.0
"""Seconds one rule may take on one input document before the worker is killed (SL904)."""
DEFAULT_LOAD_TIMEOUT = 60.0
"""Seconds for starting the worker and compiling the modules."""
MAX_LINE = 64 * 1024 * 1024
RULE_KINDS = ("deny", "warn")
INTERNAL_PREFIX = "slsalint__r"
ID_PATTERN = re.compile(r"^[A-Z]{2,}[0-9]{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PACKAGE = re.compile(rf"^package\s+({_IDENT}(?:\.{_IDENT})*)\s*(?:#.*)?$")
_HEAD = re.compile(rf"^({_IDENT})\b")
_INTERNAL = re.compile(rf"{INTERNAL_PREFIX}(\d+)")
_SECURITY_SEVERITY = {Level.ERROR: 7.0, Level.WARNING: 4.0, Level.NOTE: 2.0}
_WITH_GAP_MARKERS = ("rego-localref", "rego-with", "rego-refhead")


# ---------------------------------------------------------------------------------------------
# Parsed modules, rules, tests


@dataclass(frozen=True)
class RegoSource:
    """A file or directory of Rego modules and where it was named (for error messages)."""

    path: Path
    pack: str | None = None
    origin: str = "--rego"


@dataclass(frozen=True)
class Metadata:
    """One ``# METADATA`` block."""

    line: int
    scope: str
    title: str | None = None
    description: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegoRule:
    """One ``deny``/``warn`` definition, with the identity its metadata gives it."""

    id: str
    name: str
    kind: str
    level: Level
    title: str | None
    description: str | None
    path: Path
    line: int
    package: str
    internal: str
    pack: str | None = None
    security_severity: float = 5.0
    help_uri: str = ""
    declared: int = 0
    """Line of the # METADATA block that declared the id (for duplicate-id messages)."""

    @property
    def query(self) -> str:
        return f"data.{self.package}.{self.internal}"

    @property
    def entrypoint(self) -> str:
        return f"{self.package.replace('.', '/')}/{self.internal}"

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"

    def describe(self) -> str:
        return f"{self.id} (`{self.kind}` in {self.location})"


@dataclass(frozen=True)
class RegoTest:
    name: str
    line: int
    package: str
    input: str | None
    """JSON text of the input document (``custom.input``), or None."""
    spans: tuple[tuple[int, int], ...] = ()
    """First and last line of each definition of the test rule."""

    @property
    def query(self) -> str:
        return f"data.{self.package}.{self.name}"


@dataclass
class RegoModule:
    path: Path
    package: str
    source: str
    compiled: str
    """The source with ``deny``/``warn`` renamed to internal rules (same line numbers)."""
    rules: list[RegoRule] = field(default_factory=list)
    tests: list[RegoTest] = field(default_factory=list)
    pack: str | None = None
    calls: dict[str, int] = field(default_factory=dict)
    """Functions the module calls (dotted names), with the line of the first call."""
    defined: set[str] = field(default_factory=set)
    """Names of the rules and functions the module defines."""
    aliases: set[str] = field(default_factory=set)
    """Names ``import data...`` / ``import input...`` bind."""

    def isolated(self, test: RegoTest) -> str:
        """The source with every other test rule blanked out (same line numbers), so one test the
        engine cannot compile does not take the other tests of its file down with it."""
        lines = self.source.split("\n")
        for other in self.tests:
            if other.name == test.name:
                continue
            for first, last in other.spans:
                for number in range(first, last + 1):
                    lines[number - 1] = ""
        return "\n".join(lines)


@dataclass
class RegoRuleSet:
    """Everything loaded from a set of sources: modules and the rules they define."""

    modules: list[RegoModule] = field(default_factory=list)

    @property
    def rules(self) -> list[RegoRule]:
        return [rule for module in self.modules for rule in module.rules]

    def metas(self) -> list[RuleMeta]:
        """One RuleMeta per rule id (several definitions may share an id), sorted by id."""
        by_id: dict[str, list[RegoRule]] = {}
        for rule in self.rules:
            by_id.setdefault(rule.id, []).append(rule)
        return [rule_meta(group) for _, group in sorted(by_id.items())]

    def find(self, key: str) -> list[RegoRule]:
        return [r for r in self.rules if key.upper() == r.id or key.lower() == r.name]

    def internal_names(self) -> dict[str, RegoRule]:
        return {rule.internal: rule for rule in self.rules}


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def kebab(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def rule_meta(group: Sequence[RegoRule]) -> RuleMeta:
    """The catalogue entry of a Rego rule (all definitions sharing one id)."""
    first = group[0]
    level = max((r.level for r in group), key=lambda lv: lv.rank)
    summary = first.title or _first_line(first.description) or f"Rego `{first.kind}` rule in {first.package}"
    parts = [first.description.strip() if first.description else summary]
    sources = ", ".join(f"`{r.kind}` at `{r.location}`" for r in group)
    where = f" (pack `{first.pack}`)" if first.pack else ""
    parts.append(f"**Rule source.** Rego package `{first.package}`: {sources}{where}.")
    parts.append(
        f"**Level.** {level.value} (`deny` rules default to error, `warn` rules to warning; "
        "`custom.severity` in the rule's metadata overrides it)."
    )
    return RuleMeta(
        id=first.id,
        name=first.name,
        level=level,
        summary=summary,
        doc="\n\n".join(parts),
        options_schema={"type": "object", "additionalProperties": False},
        security_severity=first.security_severity,
        help_uri=first.help_uri,
    )


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0].strip() if text and text.strip() else ""


# ---------------------------------------------------------------------------------------------
# Source scanning


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    top: bool
    """The line starts outside any brace, bracket, parenthesis or raw string."""


def _scan(text: str) -> list[_Line]:
    """Split ``text`` into lines, marking those that start at nesting depth 0."""
    lines: list[_Line] = []
    depth = 0
    in_string = in_raw = in_comment = escape = False
    top = True
    start = 0
    number = 1
    for index, ch in enumerate(text):
        if ch == "\n":
            lines.append(_Line(number, text[start:index], top))
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
        elif ch in "}])":
            depth -= 1
    if start <= len(text):
        lines.append(_Line(number, text[start:], top))
    return lines


def _parse_metadata(path: Path, line: int, comments: list[str]) -> Metadata:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    body = textwrap.dedent("\n".join(c.lstrip()[1:] for c in comments))
    try:
        data = YAML(typ="safe", pure=True).load(body) if body.strip() else {}
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = line + 1 + mark.line if mark is not None else line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{display_path(path)}:{at}: invalid YAML in # METADATA: {problem}") from None
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
    for item in data.get("related_resources") or []:
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
class _Head:
    line: _Line
    name: str
    rest: str
    metadata: Metadata | None
    default: bool = False


def _structure(path: Path, text: str) -> tuple[str, int, Metadata | None, list[_Head], list[_Line]]:
    """(package, package line, package metadata, top-level rule heads, lines) of one module."""
    lines = _scan(text)
    where = display_path(path)
    package: str | None = None
    package_line = 0
    package_meta: Metadata | None = None
    heads: list[_Head] = []
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
                pending = _parse_metadata(path, lines[start].number, block)
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
                package_meta = _merge_package(package_meta, meta)
                meta = None
            heads.append(_Head(line, head.group(1), body[head.end() :], meta, default))
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


def _calls(text: str) -> dict[str, int]:
    """Every ``name(`` / ``a.b.c(`` outside strings and comments, with the line of its first use."""

    def blank(match: re.Match[str]) -> str:
        token = match.group(0)
        return "" if token.startswith("#") else '""' + "\n" * token.count("\n")

    code = _LEXEMES.sub(blank, text)
    out: dict[str, int] = {}
    for match in _CALL.finditer(code):
        out.setdefault(match.group(1), code.count("\n", 0, match.start()) + 1)
    return out


def _import_aliases(lines: list[_Line]) -> set[str]:
    out = set()
    for line in lines:
        match = _IMPORT.match(line.text.strip()) if line.top else None
        if match:
            path = match.group(2).split(".")
            out.add(match.group(3) or (path[-1] if len(path) > 1 else match.group(1)))
    return out


def external_calls(modules: Sequence[RegoModule]) -> dict[str, tuple[Path, int]]:
    """Functions the modules call without defining or importing them: they must be built-ins of
    the engine. Name -> (file, line) of the first call."""
    defined: dict[str, set[str]] = {}
    for module in modules:
        defined.setdefault(module.package, set()).update(module.defined)
    out: dict[str, tuple[Path, int]] = {}
    for module in modules:
        for name, line in module.calls.items():
            first = name.split(".", 1)[0]
            if name in _KEYWORDS or first in ("data", "input") or first in module.aliases:
                continue
            if "." not in name and name in defined.get(module.package, set()):
                continue
            out.setdefault(name, (module.path, line))
    return out


def _statement_end(lines: list[_Line], first: int) -> int:
    """Last line of the top-level statement starting on line ``first`` (1-based): the lines up to
    the next one that starts a statement or a comment at nesting depth 0."""
    last = first
    for line in lines[first:]:
        if line.top and line.text.strip():
            break
        if line.text.strip():
            last = line.number
    return last


def _merge_package(first: Metadata | None, second: Metadata) -> Metadata:
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


def _level_of(where: str, kind: str, custom: dict[str, Any]) -> Level:
    severity = custom.get("severity")
    if severity is None:
        return Level.ERROR if kind == "deny" else Level.WARNING
    text = str(severity).strip().lower()
    if text not in ("error", "warning", "note"):
        raise ConfigError(f"{where}: custom.severity {severity!r}: expected error, warning or note")
    return Level(text)


def parse_module(
    path: Path, text: str, *, pack: str | None = None, counter: list[int] | None = None
) -> RegoModule:
    """Parse one module: package, ``deny``/``warn`` rules with their metadata, ``test_*`` rules.

    Raises ConfigError (naming the file and line) for a missing or invalid id, an unsupported rule
    form or bad metadata. ``counter`` numbers internal rule names across modules.
    """
    counter = counter if counter is not None else [0]
    package, _, package_meta, heads, lines = _structure(path, text)
    where = display_path(path)
    compiled = [line.text for line in lines]
    module = RegoModule(path=path, package=package, source=text, compiled="", pack=pack)
    module.calls = _calls(text)
    module.defined = {head.name for head in heads}
    module.aliases = _import_aliases(lines)
    aggregates: dict[str, list[str]] = {}
    is_test_file = path.name.endswith("_test.rego")
    tests: dict[str, RegoTest] = {}
    for head in heads:
        at = f"{where}:{head.line.number}"
        if head.name.startswith("test_") and is_test_file and not head.default:
            span = (head.line.number, _statement_end(lines, head.line.number))
            known = tests.get(head.name)
            if known is None:
                test_input = _test_input(path, head.metadata, at)
                tests[head.name] = RegoTest(head.name, head.line.number, package, test_input, (span,))
            else:
                tests[head.name] = replace(known, spans=(*known.spans, span))
            continue
        if head.name not in RULE_KINDS:
            continue
        kind = head.name
        if head.default or not re.match(r"^\s+contains\b", head.rest):
            raise ConfigError(
                f"{at}: `{kind}` must be a partial set rule (`{kind} contains msg if {{ ... }}`); "
                f"Rego v0 rules (`{kind}[msg] {{`), `default {kind}` and complete rules are not supported"
            )
        own = head.metadata
        custom = {**(package_meta.custom if package_meta else {}), **(own.custom if own else {})}
        rule_id = custom.get("id")
        if rule_id is None:
            raise ConfigError(
                f"{at}: rule `{kind}` has no id: add `custom: {{id: ORG001}}` to a # METADATA block "
                "above the rule or the package"
            )
        rule_id = str(rule_id)
        if rule_id.upper().startswith("SL"):
            raise ConfigError(f"{at}: rule id {rule_id}: the SL prefix is reserved for built-in rules")
        if not ID_PATTERN.match(rule_id):
            raise ConfigError(
                f"{at}: rule id {rule_id!r}: expected two or more capital letters and three digits (ORG001)"
            )
        title = (own.title if own else None) or (package_meta.title if package_meta else None)
        description = (own.description if own else None) or (
            package_meta.description if package_meta else None
        )
        name = str(custom.get("name") or (kebab(title) if title else rule_id.lower()))
        if not NAME_PATTERN.match(name):
            raise ConfigError(f"{at}: rule name {name!r} of {rule_id}: expected kebab-case (custom.name)")
        level = _level_of(at, kind, custom)
        security = custom.get("security-severity", custom.get("security_severity"))
        try:
            security_severity = float(security) if security is not None else _SECURITY_SEVERITY[level]
        except (TypeError, ValueError):
            raise ConfigError(f"{at}: custom.security-severity {security!r}: expected a number") from None
        if not 0.0 <= security_severity <= 10.0:
            raise ConfigError(f"{at}: custom.security-severity must be between 0 and 10")
        related = (own.related if own else ()) or (package_meta.related if package_meta else ())
        help_uri = next((r for r in related if r.startswith(("https://", "http://"))), "")
        counter[0] += 1
        internal = f"{INTERNAL_PREFIX}{counter[0]}"
        text_line = head.line.text
        indent = len(text_line) - len(text_line.lstrip())
        compiled[head.line.number - 1] = text_line[:indent] + internal + text_line[indent + len(kind) :]
        aggregates.setdefault(kind, []).append(internal)
        module.rules.append(
            RegoRule(
                id=rule_id,
                name=name,
                kind=kind,
                level=level,
                title=title,
                description=description,
                path=path,
                line=head.line.number,
                package=package,
                internal=internal,
                pack=pack,
                security_severity=security_severity,
                help_uri=help_uri,
                declared=(own.line if own and "id" in own.custom else None)
                or (package_meta.line if package_meta else head.line.number),
            )
        )
    module.tests = list(tests.values())
    tail = []
    for kind, internals in aggregates.items():
        for internal in internals:
            tail.append(f"{kind} contains slsalint__v if {{ some slsalint__v in {internal} }}")
    module.compiled = "\n".join(compiled) + ("\n" + "\n".join(tail) + "\n" if tail else "")
    return module


def _test_input(path: Path, meta: Metadata | None, at: str) -> str | None:
    """JSON text of a test's ``custom.input``: a file relative to the test file, or inline."""
    if meta is None or "input" not in meta.custom:
        return None
    value = meta.custom["input"]
    if isinstance(value, dict):
        return json.dumps(value)
    if not isinstance(value, str):
        raise ConfigError(f"{at}: custom.input must be a file name or a mapping")
    file = path.parent / value
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{at}: custom.input {display_path(file)}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{at}: custom.input {display_path(file)}: cannot read: {exc}") from None
    try:
        if file.suffix in (".yaml", ".yml"):
            from ruamel.yaml import YAML

            data = YAML(typ="safe", pure=True).load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise ConfigError(f"{at}: custom.input {display_path(file)}: invalid: {exc}") from None
    return json.dumps(data)


def _read(path: Path, origin: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{origin}: {display_path(path)}: cannot read: {exc}") from None


def module_files(source: RegoSource) -> list[Path]:
    """The non-test ``*.rego`` files a source names (a file, or a directory searched recursively)."""
    path = source.path
    if path.is_file():
        if path.suffix != ".rego":
            raise ConfigError(f"{source.origin}: {display_path(path)}: not a .rego file")
        if path.name.endswith("_test.rego"):
            raise ConfigError(
                f"{source.origin}: {display_path(path)} is a test file; run it with `slsalint packs test`"
            )
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{source.origin}: {display_path(path)}: no such file or directory")
    files = sorted(
        f
        for f in path.rglob("*.rego")
        if f.is_file()
        and not f.name.endswith("_test.rego")
        and not any(part.startswith(".") for part in f.relative_to(path).parts)
    )
    if not files:
        raise ConfigError(f"{source.origin}: {display_path(path)}: no Rego modules (*.rego) found")
    return files


def test_files(directory: Path) -> list[Path]:
    return sorted(
        f
        for f in directory.rglob("*_test.rego")
        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(directory).parts)
    )


def load_rules(sources: Iterable[RegoSource]) -> RegoRuleSet:
    """Parse every module the sources name (metadata only; the engine is not involved)."""
    ruleset = RegoRuleSet()
    counter = [0]
    seen: set[Path] = set()
    for source in sources:
        for path in module_files(source):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            ruleset.modules.append(
                parse_module(path, _read(path, source.origin), pack=source.pack, counter=counter)
            )
    _check_unique(ruleset)
    return ruleset


def _check_unique(ruleset: RegoRuleSet) -> None:
    from slsalint.checks import builtin_rules

    declared: dict[str, tuple[Path, int]] = {}
    names: dict[str, str] = {m.name: m.id for m in builtin_rules()}
    for rule in ruleset.rules:
        line = rule.declared or rule.line
        previous = declared.get(rule.id)
        if previous is None:
            declared[rule.id] = (rule.path, line)
        elif previous != (rule.path, line):
            first = f"{display_path(previous[0])}:{previous[1]}"
            raise ConfigError(f"{display_path(rule.path)}:{line}: duplicate rule id {rule.id} (also {first})")
        owner = names.setdefault(rule.name, rule.id)
        if owner != rule.id:
            raise ConfigError(
                f"{rule.location}: rule name {rule.name!r} of {rule.id} is already used by {owner}; "
                "set custom.name"
            )


def pack_sources(names: Iterable[str]) -> list[RegoSource]:
    """The Rego files of the named packs (``rego:`` in their pack.yaml)."""
    from slsalint.policy import load_pack

    out: list[RegoSource] = []
    for name in names:
        pack = load_pack(name)
        out.extend(RegoSource(path, pack=name, origin=f"{pack.path}") for path in pack.rego)
    return out


def catalogue(extra: Iterable[Path] = ()) -> list[RegoRuleSet]:
    """Rego rules of every bundled pack, and of the ``extra`` directories (for ``rules list/show``).

    Each pack, and the extra directories together, load on their own: ids must be unique within
    what one run loads, not across packs that are never selected together.
    """
    from slsalint.policy import available_packs

    sets = [load_rules(sources) for name in available_packs() if (sources := pack_sources([name]))]
    extra_sources = [RegoSource(p) for p in extra]
    if extra_sources:
        sets.append(load_rules(extra_sources))
    return sets


# ---------------------------------------------------------------------------------------------
# Engine interface


@dataclass(frozen=True)
class Outcome:
    """The result of one rule on one input document: its values, or why there are none."""

    values: list[JSON] | None
    error: str | None = None


@dataclass(frozen=True)
class TestOutcome:
    status: Literal["pass", "fail", "error"]
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class EngineModule:
    name: str
    source: str


class RegoLoadError(Exception):
    """The engine rejected the modules (syntax or compile error): a configuration error."""

    def __init__(self, kind: str, module: str | None, rule: int | None, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.module = module
        self.rule = rule
        self.message = message


class EngineFailure(Exception):
    """The engine crashed, hung or answered with garbage."""


class RegoEngine(Protocol):
    """A Rego evaluator: load modules and rules once, then evaluate batches of input documents."""

    def load(
        self, modules: Sequence[EngineModule], rules: Sequence[RegoRule], functions: Sequence[str] = ()
    ) -> None:
        """Compile ``modules``; ``rules`` are what :meth:`evaluate` evaluates, in order;
        ``functions`` are names the modules call that the engine must provide as built-ins.

        Raises RegoLoadError for modules the engine rejects, EngineFailure when it cannot run.
        """

    def evaluate(self, documents: Sequence[str]) -> list[list[Outcome]]:
        """One row per JSON input document, one Outcome per loaded rule. Never raises for a
        failing rule: the failure is in its Outcome."""

    def run_tests(
        self,
        modules: Sequence[EngineModule],
        tests: Sequence[RegoTest],
        sources: dict[str, EngineModule] | None = None,
    ) -> list[TestOutcome]:
        """Evaluate each test rule in a fresh interpreter holding ``modules`` plus, when given,
        ``sources[test name]`` (the test's own module)."""

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# regopy backend: a long-lived worker process


class _WorkerDied(Exception):
    pass


class _WorkerTimeout(Exception):
    pass


class _WorkerGarbage(Exception):
    pass


def worker_command() -> list[str]:
    return [sys.executable, "-m", "slsalint.rego_worker"]


class RegopyWorker:
    """:class:`RegoEngine` backed by regopy (rego-cpp) in a child process (``slsalint.rego_worker``).

    One worker serves a whole run. Each evaluation has ``timeout`` seconds; when the worker dies,
    hangs or writes something that is not the protocol, it is killed, the rule being evaluated gets
    an error Outcome naming what happened, the worker is restarted and the batch continues. A rule
    that crashed or hung the engine is not evaluated again in that run (its later Outcomes are
    errors too), so a broken rule cannot turn a run into a long series of restarts.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        load_timeout: float = DEFAULT_LOAD_TIMEOUT,
        command: Sequence[str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.load_timeout = max(load_timeout, timeout)
        self.command = list(command) if command else worker_command()
        self.mode = "none"
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = bytearray()
        self._modules: list[EngineModule] = []
        self._rules: list[RegoRule] = []
        self._functions: list[str] = []
        self._bundle = True
        self._broken: dict[int, str] = {}

    # -- process ------------------------------------------------------------------------------

    def _start(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        self._buffer = bytearray()
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            self._proc = None
            raise EngineFailure(f"cannot start the Rego engine worker: {exc}") from None
        try:
            hello = self._recv(time.monotonic() + self.load_timeout)
        except (_WorkerDied, _WorkerTimeout, _WorkerGarbage) as exc:
            self._kill()
            raise EngineFailure(f"the Rego engine did not start: {exc}") from None
        if not hello.get("ok"):
            self._kill()
            raise EngineFailure(f"the Rego engine is unavailable: {hello.get('error')}")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None and proc.stdin is not None:
            try:
                proc.stdin.write(b'{"op":"exit"}\n')
                proc.stdin.flush()
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> RegopyWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        return " | ".join(lines[-2:])[:300]

    def _death(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        if code is not None and code < 0:
            try:
                what = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                what = f"killed by signal {-code}"
        elif code is not None:
            what = f"exited with status {code}"
        else:
            what = "closed its output"
        tail = self._stderr_tail()
        return f"the Rego engine crashed ({what})" + (f": {tail}" if tail else "")

    # -- protocol -----------------------------------------------------------------------------

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise _WorkerDied("the Rego engine is not running")
        data = memoryview(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
        fd = proc.stdin.fileno()
        os.set_blocking(fd, False)
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerTimeout("the Rego engine stopped reading requests")
            _, ready, _ = select.select([], [fd], [], remaining)
            if not ready:
                continue
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise _WorkerDied(self._death()) from None
            data = data[written:]

    def _recv(self, deadline: float) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise _WorkerDied("the Rego engine is not running")
        fd = proc.stdout.fileno()
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                try:
                    message = json.loads(line)
                except ValueError:
                    raise _WorkerGarbage(
                        f"the Rego engine wrote something that is not JSON: {line[:60]!r}"
                    ) from None
                if not isinstance(message, dict):
                    raise _WorkerGarbage(f"the Rego engine wrote an unexpected message: {line[:60]!r}")
                return message
            if len(self._buffer) > MAX_LINE:
                raise _WorkerGarbage("the Rego engine wrote an oversized answer")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerTimeout("timed out")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise _WorkerTimeout("timed out")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise _WorkerDied(self._death())
            self._buffer.extend(chunk)

    # -- RegoEngine ---------------------------------------------------------------------------

    def load(
        self, modules: Sequence[EngineModule], rules: Sequence[RegoRule], functions: Sequence[str] = ()
    ) -> None:
        self._modules = list(modules)
        self._rules = list(rules)
        self._functions = list(functions)
        self._broken = {}
        self._bundle = True
        try:
            self._reload()
        except EngineFailure:
            # Building a bundle can abort the engine where plain queries work: retry without.
            self._bundle = False
            self._reload()

    def _reload(self) -> None:
        self._kill()
        self._start()
        request = {
            "op": "load",
            "modules": [{"name": m.name, "source": m.source} for m in self._modules],
            "rules": [{"id": r.id, "query": r.query, "entrypoint": r.entrypoint} for r in self._rules],
            "functions": self._functions,
            "bundle": self._bundle,
        }
        deadline = time.monotonic() + self.load_timeout
        try:
            self._send(request, deadline)
            answer = self._recv(deadline)
        except (_WorkerDied, _WorkerTimeout, _WorkerGarbage) as exc:
            self._kill()
            raise EngineFailure(f"while compiling the Rego modules: {exc}") from None
        if not answer.get("ok"):
            rule = answer.get("rule")
            kind = str(answer.get("kind") or "compile")
            raise RegoLoadError(
                kind,
                answer.get("module"),
                rule if isinstance(rule, int) else None,
                str(answer.get("function")) if kind == "builtin" else _engine_text(answer),
            )
        self.mode = str(answer.get("mode") or "query")

    def _ensure_running(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self.restarts += 1
            self._reload()

    def evaluate(self, documents: Sequence[str]) -> list[list[Outcome]]:
        count = len(self._rules)
        rows: list[list[Outcome | None]] = [[None] * count for _ in documents]
        total = len(documents) * count
        done = 0
        while done < total:
            try:
                self._ensure_running()
            except (EngineFailure, RegoLoadError) as exc:
                reason = f"the Rego engine could not be restarted: {exc}"
                for position in range(done, total):
                    i, r = divmod(position, count)
                    rows[i][r] = Outcome(None, reason)
                break
            request = {
                "op": "eval",
                "inputs": list(documents),
                "skip": done,
                "skip_rules": sorted(self._broken),
            }
            try:
                self._send(request, time.monotonic() + self.load_timeout)
                while done < total:
                    message = self._recv(time.monotonic() + self.timeout)
                    i, r = divmod(done, count)
                    if message.get("i") != i or message.get("r") != r:
                        raise _WorkerGarbage(f"the Rego engine answered out of order: {str(message)[:80]}")
                    if r in self._broken:
                        rows[i][r] = Outcome(None, self._broken[r])
                    elif message.get("ok"):
                        rows[i][r] = _outcome(message.get("out"))
                    else:
                        rows[i][r] = Outcome(None, _engine_message(str(message.get("error") or "")))
                    done += 1
                finished = self._recv(time.monotonic() + self.timeout)
                if not finished.get("done"):
                    raise _WorkerGarbage("the Rego engine did not finish the batch")
            except (_WorkerDied, _WorkerTimeout, _WorkerGarbage) as exc:
                if done >= total:
                    self._kill()
                    break
                i, r = divmod(done, count)
                if isinstance(exc, _WorkerTimeout):
                    reason = f"evaluation did not finish within {self.timeout:g}s (the engine was stopped)"
                else:
                    reason = str(exc)
                if not isinstance(exc, _WorkerGarbage):
                    self._broken.setdefault(
                        r,
                        f"not evaluated: the Rego engine failed on this rule earlier in this run ({reason})",
                    )
                rows[i][r] = Outcome(None, reason)
                done += 1
                self._kill()
        return [[o if o is not None else Outcome(None, "not evaluated") for o in row] for row in rows]

    def run_tests(
        self,
        modules: Sequence[EngineModule],
        tests: Sequence[RegoTest],
        sources: dict[str, EngineModule] | None = None,
    ) -> list[TestOutcome]:
        sources = sources or {}
        results: list[TestOutcome | None] = [None] * len(tests)
        done = 0
        while done < len(tests):
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                try:
                    self._start()
                except EngineFailure as exc:
                    for k in range(done, len(tests)):
                        results[k] = TestOutcome("error", str(exc))
                    break
            request = {
                "op": "test",
                "modules": [{"name": m.name, "source": m.source} for m in modules],
                "tests": [
                    {"query": t.query, "input": t.input, "module": _module_json(sources.get(t.name))}
                    for t in tests
                ],
                "skip": done,
            }
            started = time.monotonic()
            try:
                self._send(request, time.monotonic() + self.load_timeout)
                while done < len(tests):
                    message = self._recv(time.monotonic() + self.timeout)
                    if message.get("t") != done:
                        raise _WorkerGarbage("the Rego engine answered out of order")
                    status = message.get("status")
                    detail = _engine_message(str(message.get("detail") or ""))
                    if status not in ("pass", "fail", "error"):
                        raise _WorkerGarbage(f"unexpected test status {status!r}")
                    results[done] = TestOutcome(status, detail, float(message.get("seconds") or 0.0))
                    done += 1
                    started = time.monotonic()
                self._recv(time.monotonic() + self.timeout)
            except (_WorkerDied, _WorkerTimeout, _WorkerGarbage) as exc:
                if done >= len(tests):
                    self._kill()
                    break
                if isinstance(exc, _WorkerTimeout):
                    reason = f"did not finish within {self.timeout:g}s (the engine was stopped)"
                else:
                    reason = str(exc)
                results[done] = TestOutcome("error", reason, time.monotonic() - started)
                done += 1
                self._kill()
        return [r if r is not None else TestOutcome("error", "not run") for r in results]


def _module_json(module: EngineModule | None) -> dict[str, str] | None:
    return {"name": module.name, "source": module.source} if module is not None else None


def _outcome(text: object) -> Outcome:
    """Validate what the engine returned for ``data.pkg.rule``: JSON holding a set (array)."""
    if not isinstance(text, str):
        return Outcome(None, "the Rego engine returned no output")
    if text == "undefined":
        return Outcome([])
    try:
        document = json.loads(text)
    except ValueError:
        if text.startswith("(error"):
            return Outcome(None, _engine_message(text))
        return Outcome(
            None,
            "the Rego engine returned output that is not valid JSON (a known rego-cpp defect with some "
            f"string built-ins, see docs/rego.md): {text[:120]!r}",
        )
    expressions = document.get("expressions") if isinstance(document, dict) else None
    if not isinstance(expressions, list) or not expressions:
        return Outcome(None, f"unexpected output from the Rego engine: {text[:120]!r}")
    value = expressions[0]
    if not isinstance(value, list):
        return Outcome(None, f"the rule did not evaluate to a set: {json.dumps(value)[:120]}")
    return Outcome(value)


_ERRORMSG = re.compile(r"\(errormsg \d+:([^\n]*?)\)\s*$", re.MULTILINE)


def _engine_message(text: str) -> str:
    """One line from whatever the engine reported (error nodes, diagnostics, plain text)."""
    messages = [m.strip() for m in _ERRORMSG.findall(text)]
    if messages:
        line = "; ".join(dict.fromkeys(messages))
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() not in ("Errors:",)]
        line = lines[0] if lines else text.strip()
    if any(marker in text for marker in _WITH_GAP_MARKERS):
        line += (
            " (a known rego-cpp defect with `with input as`; give the test its input with "
            "`custom.input` in # METADATA instead, see docs/rego.md)"
        )
    return line[:500]


def _engine_text(answer: dict[str, Any]) -> str:
    error = str(answer.get("error") or "")
    diagnostics = str(answer.get("diagnostics") or "")
    return error if error.strip() else diagnostics


_LOCATED = re.compile(rb"\(error (\d+):")


def _syntax_errors(text: str) -> list[tuple[str, int, str]]:
    """(module name, byte offset, message) of each error in a RegoError message."""
    data = text.encode("utf-8", "replace")
    out = []
    for match in _LOCATED.finditer(data):
        length = int(match.group(1))
        start = match.end()
        name = data[start : start + length].decode("utf-8", "replace")
        rest = data[start + length :]
        location = re.match(rb"\|(\d+)\|(\d+)", rest)
        if not location:
            continue
        offset = int(location.group(1))
        message = re.search(rb"\(errormsg (\d+):", rest)
        text_msg = ""
        if message:
            size = int(message.group(1))
            text_msg = rest[message.end() : message.end() + size].decode("utf-8", "replace")
        out.append((name, offset, text_msg))
    return out


def _line_col(source: str, offset: int) -> tuple[int, int]:
    data = source.encode("utf-8")[:offset]
    line = data.count(b"\n") + 1
    column = len(data) - (data.rfind(b"\n") + 1) + 1
    return line, column


def load_error(
    exc: RegoLoadError, modules: Sequence[RegoModule], rules: Sequence[RegoRule], *, compiled: bool = True
) -> ConfigError:
    """A one-line ConfigError naming the file (and line) the engine rejected. ``compiled`` says
    whether the engine was given the rewritten sources (offsets are computed on what it saw)."""
    internals = {r.internal: r.kind for r in rules}

    def clean(text: str) -> str:
        return _INTERNAL.sub(lambda m: internals.get(m.group(0), "rule"), text)

    by_name = {str(m.path): m for m in modules}
    if exc.kind == "builtin":
        path, line = external_calls(modules).get(exc.message, (None, 0))
        where = f"{display_path(path)}:{line}" if path is not None else "Rego modules"
        return ConfigError(
            f"{where}: `{exc.message}` is neither defined by the loaded modules nor a built-in function of "
            "this Rego engine (rego-cpp via regopy), so the rule could never fire; see docs/rego.md"
        )
    if exc.kind == "syntax":
        located = _syntax_errors(exc.message)
        if located:
            name, offset, message = located[0]
            module = by_name.get(name) or by_name.get(exc.module or "")
            where = name
            if module is not None:
                line, column = _line_col(module.compiled if compiled else module.source, offset)
                where = f"{display_path(module.path)}:{line}:{column}"
            more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
            return ConfigError(f"{where}: Rego syntax error: {clean(message)}{more}")
        module = by_name.get(exc.module or "")
        where = display_path(module.path) if module else str(exc.module)
        return ConfigError(f"{where}: Rego syntax error: {clean(_engine_message(exc.message))}")
    if exc.rule is not None and 0 <= exc.rule < len(rules):
        rule = rules[exc.rule]
        return ConfigError(
            f"{rule.location}: Rego rule {rule.id} (`{rule.kind}`) does not compile: "
            f"{clean(_engine_message(exc.message))}"
        )
    return ConfigError(f"Rego modules do not compile: {clean(_engine_message(exc.message))}")


def open_engine(
    modules: Sequence[RegoModule], rules: Sequence[RegoRule], *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[RegopyWorker, str | None]:
    """Start a worker and load the modules; (worker, reason) where reason is set when the engine
    cannot run at all (every rule then reports SL904). Load errors raise ConfigError."""
    engine = RegopyWorker(timeout=timeout)
    try:
        functions = sorted(external_calls(modules))
        engine.load([EngineModule(str(m.path), m.compiled) for m in modules], rules, functions)
    except RegoLoadError as exc:
        engine.close()
        raise load_error(exc, modules, rules) from None
    except EngineFailure as exc:
        return engine, str(exc)
    return engine, None


# ---------------------------------------------------------------------------------------------
# Findings


class RegoRuntime:
    """The loaded Rego rules of one run and their engine: findings per target."""

    def __init__(
        self,
        ruleset: RegoRuleSet,
        rules: list[RegoRule],
        engine: RegoEngine,
        broken: str | None,
        *,
        levels: dict[str, Level] | None = None,
    ):
        self.ruleset = ruleset
        self.rules = rules
        self.engine = engine
        self.broken = broken
        self.levels = levels or {}
        """Levels the policy file's ``rules:`` gives Rego rules (by id)."""

    def rule_metas(self) -> list[RuleMeta]:
        return active_metas(self.ruleset, self.rules, self.levels)

    def close(self) -> None:
        self.engine.close()

    def findings(self, target: Target) -> list[Finding]:
        from slsalint.rego_input import input_document

        if not self.rules:
            return []
        items: list[tuple[PlatformTarget, Attestation]] = [
            (platform, attestation) for platform in target.platforms for attestation in platform.attestations
        ]
        if not items:
            return []
        if self.broken is not None:
            rows = [[Outcome(None, self.broken) for _ in self.rules] for _ in items]
        else:
            documents = [json.dumps(input_document(target, p, a), separators=(",", ":")) for p, a in items]
            rows = self.engine.evaluate(documents)
        out: list[Finding] = []
        for (platform, attestation), row in zip(items, rows, strict=True):
            for rule, outcome in zip(self.rules, row, strict=True):
                out.extend(_findings(target, platform, attestation, rule, outcome))
        return out


def _findings(
    target: Target, platform: PlatformTarget, attestation: Attestation, rule: RegoRule, outcome: Outcome
) -> list[Finding]:
    base = Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        level=rule.level,
        message="",
        image=target.reference,
        platform=str(platform.platform) if platform.platform else None,
        digest=platform.digest or target.index_digest,
        source=str(attestation.source),
    )
    if outcome.error is not None or outcome.values is None:
        return [_rule_error(base, rule, outcome.error or "no result")]
    out = []
    for value in outcome.values:
        fields = result_fields(value)
        if fields is None:
            shown = json.dumps(value)[:120]
            reason = f"a result is neither a string nor an object with a string msg: {shown}"
            out.append(_rule_error(base, rule, reason))
        else:
            out.append(replace(base, **fields))
    return out


def result_fields(value: JSON) -> dict[str, Any] | None:
    """The Finding fields one ``deny``/``warn`` result gives: a non-empty string is the message;
    an object needs a non-empty string ``msg`` and may carry ``pointer``, ``expected``, ``actual``
    and ``remediation``. None for anything else (an SL904 finding)."""
    if isinstance(value, str) and value.strip():
        return {"message": value}
    if not isinstance(value, dict) or not isinstance(value.get("msg"), str) or not value["msg"].strip():
        return None
    pointer, remediation = value.get("pointer"), value.get("remediation")
    return {
        "message": value["msg"],
        "pointer": pointer if isinstance(pointer, str) else None,
        "expected": value.get("expected"),
        "actual": value.get("actual"),
        "remediation": remediation if isinstance(remediation, str) else None,
    }


def _rule_error(base: Finding, rule: RegoRule, reason: str) -> Finding:
    from slsalint.checks import RULE_ERROR

    reason = _INTERNAL.sub(rule.kind, reason)
    return replace(
        base,
        rule_id=RULE_ERROR.id,
        rule_name=RULE_ERROR.name,
        level=Level.ERROR,
        message=f"Rego rule {rule.describe()} failed to evaluate: {reason}",
        remediation="a rule that cannot be evaluated never passes; fix the rule or work around the "
        "engine gap (docs/rego.md)",
    )


def open_rego(options: LintOptions) -> tuple[RegoRuntime | None, list[str], list[str]]:
    """Load the Rego rules of a run (packs, policy ``rego:``, ``--rego``) and start the engine.

    Returns the runtime (None without Rego rules) and the ``--enable`` / ``--disable`` keys that are
    left for the built-in rules. Load errors raise ConfigError (exit 2).
    """
    selection = select_rules(
        options.policy,
        packs=options.packs,
        rego=options.rego,
        enable=options.enable,
        disable=options.disable,
    )
    if selection.ruleset is None:
        return None, selection.enable, selection.disable
    engine, broken = open_engine(selection.ruleset.modules, selection.rules, timeout=options.rego_timeout)
    runtime = RegoRuntime(selection.ruleset, selection.rules, engine, broken, levels=selection.levels)
    return runtime, selection.enable, selection.disable


@dataclass
class RegoSelection:
    """The Rego rules a run loads and which of them run at which level (no engine involved)."""

    ruleset: RegoRuleSet | None
    rules: list[RegoRule]
    levels: dict[str, Level]
    enable: list[str]
    """``--enable`` keys naming no Rego rule (left for the built-in rules)."""
    disable: list[str]
    """``--disable`` keys naming no Rego rule."""

    def rule_metas(self) -> list[RuleMeta]:
        return active_metas(self.ruleset, self.rules, self.levels) if self.ruleset is not None else []


def active_metas(ruleset: RegoRuleSet, rules: Sequence[RegoRule], levels: dict[str, Level]) -> list[RuleMeta]:
    """Catalogue entries of the rules that run, at their effective level."""
    active = {r.id for r in rules}
    return [replace(m, level=levels.get(m.id, m.level)) for m in ruleset.metas() if m.id in active]


def select_rules(
    policy: Policy,
    *,
    packs: Sequence[str] | None = None,
    rego: Sequence[Path] = (),
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
) -> RegoSelection:
    """The Rego rules of the packs (``packs`` or the policy's), the policy's ``rego:`` and ``rego``,
    with the policy's ``rules:`` levels and ``enable``/``disable`` applied. ConfigError (exit 2)
    for load errors and for ``rules:`` entries naming no loaded rule."""
    sources = pack_sources(packs or policy.packs)
    origin = str(policy.path) if policy.path else "policy"
    sources += [RegoSource(p, origin=f"{origin}: rego") for p in policy.rego]
    sources += [RegoSource(p, origin="--rego") for p in rego]
    if not sources:
        for setting in policy.rego_rules:
            raise ConfigError(f"{setting.where}: {_unknown_rule(setting.key)}")
        return RegoSelection(None, [], {}, list(enable), list(disable))
    ruleset = load_rules(sources)
    levels: dict[str, Level] = {}
    disabled: set[str] = set()
    for setting in policy.rego_rules:
        found = ruleset.find(setting.key)
        if not found:
            raise ConfigError(f"{setting.where}: {_unknown_rule(setting.key)}")
        for rule in found:
            if setting.level is Level.OFF:
                disabled.add(rule.id)
            elif setting.level is not None:
                levels[rule.id] = setting.level
    left_enable, left_disable = [], []
    for key in enable:
        found = ruleset.find(key)
        if found:
            disabled.difference_update(r.id for r in found)
        else:
            left_enable.append(key)
    for key in disable:
        found = ruleset.find(key)
        if found:
            disabled.update(r.id for r in found)
        else:
            left_disable.append(key)
    rules = [replace(r, level=levels.get(r.id, r.level)) for r in ruleset.rules if r.id not in disabled]
    return RegoSelection(ruleset, rules, levels, left_enable, left_disable)


def _unknown_rule(key: str) -> str:
    return (
        f"unknown rule {key!r}: neither a built-in rule nor a Rego rule loaded in this run "
        "(see `slsalint rules list`, with --rego DIR for your own rules)"
    )


# ---------------------------------------------------------------------------------------------
# Pack tests


@dataclass(frozen=True)
class TestResult:
    path: Path
    name: str
    line: int
    status: Literal["pass", "fail", "error"]
    detail: str
    seconds: float


def run_pack_tests(directory: Path, *, timeout: float = DEFAULT_TIMEOUT) -> list[TestResult]:
    """Run the ``test_*`` rules of every ``*_test.rego`` under ``directory``.

    Each test runs in a fresh interpreter holding the directory's modules and its own test file,
    with the input named by its ``custom.input`` metadata (if any). Raises ConfigError when the
    directory has no tests or a module does not load.
    """
    if not directory.is_dir():
        raise ConfigError(f"{display_path(directory)}: no such directory")
    files = test_files(directory)
    if not files:
        raise ConfigError(f"{display_path(directory)}: no *_test.rego files")
    try:
        ruleset = load_rules([RegoSource(directory, origin="packs test")])
    except ConfigError as exc:
        if "no Rego modules" not in str(exc):
            raise
        ruleset = RegoRuleSet()
    tests_by_file = [(path, parse_module(path, _read(path, "packs test"))) for path in files]
    if not any(module.tests for _, module in tests_by_file):
        raise ConfigError(f"{display_path(directory)}: no test_* rules in the *_test.rego files")
    engine, broken = open_engine(ruleset.modules, ruleset.rules, timeout=timeout)
    results: list[TestResult] = []
    try:
        if broken is not None:
            for path, module in tests_by_file:
                results.extend(TestResult(path, t.name, t.line, "error", broken, 0.0) for t in module.tests)
            return results
        originals = [EngineModule(str(m.path), m.source) for m in ruleset.modules]
        for path, module in tests_by_file:
            # Syntax first, so a broken test file is a load error (exit 2) like a broken rule file.
            try:
                functions = sorted(external_calls([*ruleset.modules, module]))
                engine.load([*originals, EngineModule(str(path), module.source)], [], functions)
            except RegoLoadError as exc:
                raise load_error(exc, [*ruleset.modules, module], [], compiled=False) from None
            except EngineFailure as exc:
                results.extend(TestResult(path, t.name, t.line, "error", str(exc), 0.0) for t in module.tests)
                continue
            if not module.tests:
                continue
            isolated = {t.name: EngineModule(str(path), module.isolated(t)) for t in module.tests}
            outcomes = engine.run_tests(originals, module.tests, isolated)
            for test, outcome in zip(module.tests, outcomes, strict=True):
                results.append(
                    TestResult(path, test.name, test.line, outcome.status, outcome.detail, outcome.seconds)
                )
    finally:
        engine.close()
    return results


__all__ = [
    "DEFAULT_TIMEOUT",
    "EngineFailure",
    "EngineModule",
    "Outcome",
    "RegoEngine",
    "RegoLoadError",
    "RegoModule",
    "RegoRule",
    "RegoRuleSet",
    "RegoRuntime",
    "RegoSource",
    "RegoTest",
    "RegopyWorker",
    "TestOutcome",
    "TestResult",
    "catalogue",
    "external_calls",
    "load_rules",
    "open_rego",
    "parse_module",
    "result_fields",
    "run_pack_tests",
]
