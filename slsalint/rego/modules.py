"""Rego modules as slsalint loads them: files, packages, ``deny``/``warn`` rules with their
identity and documentation, ``test_*`` rules, and the rewrite that attributes every result to the
definition that produced it.

For evaluation, each ``deny``/``warn`` definition is renamed to an internal rule (``slsalint__rN``)
so every result can be attributed to the definition (and metadata) that produced it; ``deny`` and
``warn`` are re-defined as the union of the renamed rules so references to them keep working.
Line numbers are unchanged by the rewrite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slsalint.errors import ConfigError
from slsalint.model import Level, RuleMeta
from slsalint.rego.scanner import (
    Metadata,
    calls,
    display_path,
    import_aliases,
    statement_end,
    structure,
)

RULE_KINDS = ("deny", "warn")
INTERNAL_PREFIX = "slsalint__r"
INTERNAL = re.compile(rf"{INTERNAL_PREFIX}(\d+)")
ID_PATTERN = re.compile(r"^[A-Z]{2,}[0-9]{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_MODULE_BYTES = 4 * 1024 * 1024
"""Largest Rego module read, in bytes."""
MAX_TEST_INPUT_BYTES = 64 * 1024 * 1024
"""Largest ``custom.input`` file of a test, in bytes."""
_SECURITY_SEVERITY = {Level.ERROR: 7.0, Level.WARNING: 4.0, Level.NOTE: 2.0}
_KEYWORDS = frozenset(
    {"if", "in", "not", "some", "every", "contains", "else", "with", "as", "default", "import", "package"}
)


@dataclass(frozen=True)
class RegoSource:
    """A file or directory of Rego modules and where it was named (for error messages)."""

    path: Path
    pack: str | None = None
    origin: str = "--rego"


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
    package, _, package_meta, heads, lines = structure(path, text)
    where = display_path(path)
    compiled = [line.text for line in lines]
    module = RegoModule(path=path, package=package, source=text, compiled="", pack=pack)
    module.calls = calls(text)
    module.defined = {head.name for head in heads}
    module.aliases = import_aliases(lines)
    aggregates: dict[str, list[str]] = {}
    is_test_file = path.name.endswith("_test.rego")
    tests: dict[str, RegoTest] = {}
    for head in heads:
        at = f"{where}:{head.line.number}"
        if head.name.startswith("test_") and is_test_file and not head.default:
            span = (head.line.number, statement_end(lines, head.line.number))
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
    """JSON text of a test's ``custom.input`` (deprecated; tests use ``with input as``): a JSON or
    YAML file relative to the test file, or an inline mapping."""
    from slsalint import fileio, jsonio

    if meta is None or "input" not in meta.custom:
        return None
    value = meta.custom["input"]
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if not isinstance(value, str):
        raise ConfigError(f"{at}: custom.input must be a file name or a mapping")
    file = path.parent / value
    try:
        text = fileio.read_text(file, limit=MAX_TEST_INPUT_BYTES)
    except fileio.FileReadError as exc:
        raise ConfigError(f"{at}: custom.input {exc}") from None
    if file.suffix in (".yaml", ".yml"):
        from slsalint.rego.scanner import safe_yaml

        try:
            data = safe_yaml(text, file, 1, limit=MAX_TEST_INPUT_BYTES)
            return json.dumps(data, separators=(",", ":"))
        except ConfigError as exc:
            raise ConfigError(f"{at}: custom.input {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{at}: custom.input {display_path(file)}: not JSON data: {exc}") from None
    try:
        data = jsonio.loads(text)
    except jsonio.JSONError as exc:
        raise ConfigError(f"{at}: custom.input {display_path(file)}: invalid JSON: {exc}") from None
    return json.dumps(data, separators=(",", ":"))


def read_module(path: Path, origin: str) -> str:
    """The text of one Rego file named from outside (regular files only, bounded, UTF-8)."""
    from slsalint import fileio

    try:
        return fileio.read_text(path, limit=MAX_MODULE_BYTES)
    except fileio.FileReadError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


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
        if path.exists() or path.is_symlink():  # a FIFO, a device, a socket, a dangling link
            read_module(path, source.origin)  # raises the one-line reason (fileio)
        raise ConfigError(f"{source.origin}: {display_path(path)}: no such file or directory")
    files = sorted(
        f
        for f in path.rglob("*.rego")
        if (f.is_file() or f.exists())
        and not f.name.endswith("_test.rego")
        and not any(part.startswith(".") for part in f.relative_to(path).parts)
    )
    if not files:
        raise ConfigError(f"{source.origin}: {display_path(path)}: no Rego modules (*.rego) found")
    return files


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
                parse_module(path, read_module(path, source.origin), pack=source.pack, counter=counter)
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
