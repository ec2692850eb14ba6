"""The policy file (``slsalint.yaml``), rule packs (``rules/<pack>/pack.yaml``) and the rule plan.

A policy decides which rules run, at which level, with which options. Every file is validated
against its JSON Schema; a bad file is a ConfigError naming the file, the line when known and the
problem. Nothing here fails open: an unknown rule, a bad option or an unsupported feature stops
the run with exit 2.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slsalint.checks import CHECKS, RULE_ERROR, Check, CheckContext, find_check
from slsalint.components import ComponentMap
from slsalint.errors import ConfigError
from slsalint.exceptions import DEFAULT_HORIZON_DAYS, DEFAULT_WARNING_DAYS
from slsalint.model import Finding, Level, RuleMeta
from slsalint.resources import RULES_DIR
from slsalint.suggest import did_you_mean, rule_hint

DEFAULT_POLICY = Path("slsalint.yaml")
DEFAULT_PACKS = ("recommended",)
ALWAYS_ON = frozenset({"SL105"})
"""Rules that run whatever the packs say, always at ``error`` (evidence that cannot be read never
passes): a policy, pack or flag that lowers or disables them is a configuration error. SL904 (a
rule that failed to evaluate) is added by the engine and cannot be configured at all."""


def load_yaml(path: Path, *, what: str = "file") -> Any:
    """Read and parse a configuration YAML file keeping line information (``slsalint.yamlio``:
    regular files only, bounded size, nesting and aliases; one-line ConfigError naming the file)."""
    from slsalint import yamlio

    return yamlio.load(path, what=what)


def parse_yaml(text: str, path: Path, *, dates_as_text: bool = True) -> Any:
    """Parse configuration YAML text with line information; ``path`` names it in the one-line
    error. Dates stay text unless ``dates_as_text`` is false (see ``slsalint.yamlio``)."""
    from slsalint import yamlio

    return yamlio.loads(text, path, yaml=yamlio.round_trip(dates_as_text=dates_as_text))


def line_of(document: Any, pointer: str) -> int | None:
    """1-based line of the value at ``pointer`` in a ruamel document, when known."""
    node = document
    line: int | None = None
    for raw in [p for p in pointer.split("/")[1:]]:
        token = raw.replace("~1", "/").replace("~0", "~")
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict):
                if lc is not None and token in node:
                    line = lc.key(token)[0] + 1
                node = node[token]
            elif isinstance(node, list):
                index = int(token)
                if lc is not None:
                    line = lc.item(index)[0] + 1
                node = node[index]
            else:
                break
        except (KeyError, IndexError, ValueError, TypeError):
            break
    if line is None and getattr(document, "lc", None) is not None:
        line = int(document.lc.line) + 1
    return line


def validate_file(path: Path, document: Any, schema: str) -> None:
    """Raise ConfigError naming the first schema problem of a configuration file."""
    from slsalint.schemas import validate

    errors = validate(schema, _plain(document))
    if errors:
        first = errors[0]
        line = line_of(document, first.pointer)
        where = f"{path}:{line}" if line else str(path)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first.message
        key = re.match(r"'([^']{1,100})' does not match", message)
        if key is not None and first.pointer.endswith("/rules"):  # a mistyped rule id or name
            message += rule_hint(key.group(1))
        raise ConfigError(f"{where}: {first.pointer or '/'}: {message}{more}")


def _plain(value: Any) -> Any:
    from slsalint.yamlio import plain

    return plain(value)


@dataclass
class RuleSetting:
    level: Level | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeferredSetting:
    """A ``rules:`` entry of the policy file naming no built-in check: a Rego rule's id or name,
    resolved once the run's Rego rules are loaded (unknown then: exit 2 at ``where``)."""

    key: str
    level: Level | None
    where: str


@dataclass
class Pack:
    name: str
    version: str
    description: str
    path: Path
    rules: dict[str, RuleSetting]
    rego: list[Path] = field(default_factory=list)
    """Rego files and directories of the pack (``rego:`` in pack.yaml, relative to the pack)."""


@dataclass
class Policy:
    path: Path | None = None
    packs: list[str] = field(default_factory=lambda: list(DEFAULT_PACKS))
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    fail_on: Level | None = None
    components: ComponentMap = field(default_factory=ComponentMap)
    exceptions: Path | None = None
    """The exceptions file named by the policy (resolved against the policy file's directory)."""
    exceptions_horizon_days: int = DEFAULT_HORIZON_DAYS
    exceptions_warning_days: int = DEFAULT_WARNING_DAYS
    rego: list[Path] = field(default_factory=list)
    """Extra Rego directories (``rego:``, resolved against the policy file's directory)."""
    signers: list[Any] = field(default_factory=list)
    """``slsalint.verify.SignerPolicy`` for each ``signers:`` entry (alternatives)."""
    rego_rules: list[DeferredSetting] = field(default_factory=list)
    """``rules:`` entries for Rego rules (levels only), checked when the Rego rules are loaded."""
    exception_levels: dict[str, Level] = field(default_factory=dict)
    """``rules:`` levels of SL901-SL903 (the exception notes); ``off`` drops them."""
    rule_lines: dict[str, int] = field(default_factory=dict)
    """Line of each ``rules:`` entry, by the key as written and by the built-in rule id it names
    (report locations)."""
    pack_lines: dict[str, int] = field(default_factory=dict)
    """Line of each ``packs:`` entry, by pack name (report locations)."""


@dataclass(frozen=True)
class PlannedRule:
    check: type[Check]
    level: Level
    options: dict[str, Any]
    meta: RuleMeta = field(init=False, repr=False, compare=False)
    """``check.meta()``, looked up once."""
    run: Callable[[CheckContext], Iterable[Finding]] = field(init=False, repr=False, compare=False)
    """``run`` of one instance of ``check`` (checks keep no state), made once: the engine calls it
    for every target."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", self.check.meta())
        object.__setattr__(self, "run", self.check().run)


def _rule_settings(
    path: Path,
    document: Any,
    raw: Any,
    base: str,
    *,
    deferred: list[DeferredSetting] | None = None,
    exception_levels: dict[str, Level] | None = None,
) -> dict[str, RuleSetting]:
    """Built-in rule settings of a ``rules:`` mapping. With ``deferred`` (the policy file), keys
    naming no built-in rule are kept there for the Rego rules, and SL901-SL903 levels go to
    ``exception_levels``; without it (a pack) they are errors."""
    from slsalint.checks import EXCEPTION_RULES

    out: dict[str, RuleSetting] = {}
    for key, value in (raw or {}).items():
        check = find_check(str(key))
        line = line_of(document, f"{base}/{key}")
        where = f"{path}:{line}" if line else str(path)
        value = _plain(value)
        if check is None:
            meta = next((m for m in EXCEPTION_RULES if str(key) in (m.id, m.name)), None)
            if str(key) in (RULE_ERROR.id, RULE_ERROR.name):
                raise ConfigError(
                    f"{where}: {RULE_ERROR.id} ({RULE_ERROR.name}) cannot be configured: a rule that "
                    "fails to evaluate is always an error"
                )
            builtin_id = re.fullmatch(r"SL[0-9]{3}", str(key).upper()) is not None
            if deferred is None or exception_levels is None or (builtin_id and meta is None):
                raise ConfigError(
                    f"{where}: unknown rule {key!r}{rule_hint(str(key))} (see `slsalint rules list`)"
                )
            extra = sorted(set(value) - {"level"})
            name = meta.id if meta is not None else str(key)
            if extra:
                raise ConfigError(
                    f"{where}: rule {name} takes no options, only a level (got {', '.join(extra)})"
                )
            level = Level(value["level"]) if value.get("level") else None
            if meta is not None:
                if meta.id in exception_levels:
                    raise ConfigError(f"{where}: rule {meta.id} is configured twice")
                if level is not None:
                    exception_levels[meta.id] = level
            else:
                deferred.append(DeferredSetting(str(key), level, where))
            continue
        level = value.pop("level", None)
        if check.id in ALWAYS_ON and level not in (None, Level.ERROR.value):
            raise ConfigError(f"{where}: {_always_on(check)}")
        options = value
        _validate_options(check, options, where)
        if check.id in out:
            raise ConfigError(f"{where}: rule {check.id} is configured twice")
        out[check.id] = RuleSetting(Level(level) if level else None, options)
    return out


def _always_on(check: type[Check]) -> str:
    return (
        f"{check.id} ({check.name}) is always an error and cannot be lowered or disabled: evidence "
        "that cannot be read means slsalint could not judge, and that never passes"
    )


def _validate_options(check: type[Check], options: dict[str, Any], where: str) -> None:
    from slsalint.schemas import validate_with

    for error in validate_with(check.meta().options_schema, _plain(options)):
        path = "/".join(p.replace("~1", "/").replace("~0", "~") for p in error.pointer.split("/")[1:])
        at = f" at {path}" if path else ""
        raise ConfigError(f"{where}: invalid options for {check.id} ({check.name}){at}: {error.message}")


_PACKS: dict[tuple[Path, int, int], Pack] = {}
"""Packs already loaded in this process, by file and its modification time and size."""


def load_pack(name: str, *, rules_dir: Path = RULES_DIR) -> Pack:
    path = rules_dir / name / "pack.yaml"
    if not path.is_file():
        raise ConfigError(_unknown_pack(name, rules_dir))
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _PACKS:
        _PACKS[key] = _read_pack(name, path)
    return copy.deepcopy(_PACKS[key])


def _read_pack(name: str, path: Path) -> Pack:
    document = load_yaml(path)
    validate_file(path, document, "pack")
    if document["name"] != name:
        raise ConfigError(f"{path}: pack name {document['name']!r} does not match its directory {name!r}")
    return Pack(
        name=name,
        version=str(document["version"]),
        description=str(document["description"]),
        path=path,
        rules=_rule_settings(path, document, document["rules"], "/rules"),
        rego=_rego_paths(path, document),
    )


def _rego_paths(path: Path, document: Any) -> list[Path]:
    """``rego:`` entries of a pack or policy file, resolved against its directory; each must exist."""
    out = []
    for index, entry in enumerate(document.get("rego") or []):
        resolved = path.parent / str(entry)
        if not resolved.exists():
            line = line_of(document, f"/rego/{index}")
            raise ConfigError(f"{path}:{line}: rego: {entry}: no such file or directory")
        out.append(resolved)
    return out


def available_packs(rules_dir: Path = RULES_DIR) -> list[str]:
    return sorted(p.parent.name for p in rules_dir.glob("*/pack.yaml"))


def _unknown_pack(name: str, rules_dir: Path = RULES_DIR) -> str:
    packs = available_packs(rules_dir)
    return f"unknown pack {name!r}{did_you_mean(name, packs)}; available: {', '.join(packs)}"


def default_policy() -> Path | None:
    """``./slsalint.yaml`` when anything has that name, else None. A directory, a FIFO or a
    dangling symlink named so is returned too (and refused when loaded): a policy the user meant
    to apply is never silently replaced by the defaults."""
    import os

    return DEFAULT_POLICY if os.path.lexists(DEFAULT_POLICY) else None


def load_policy(path: Path) -> Policy:
    document = load_yaml(path, what="policy file")
    if document is None:
        raise ConfigError(f"{path}: empty policy file (expected at least 'version: 1')")
    if not isinstance(document, dict):
        raise ConfigError(f"{path}:1: the policy must be a mapping")
    validate_file(path, document, "policy")
    known = available_packs()
    for index, name in enumerate(document.get("packs") or []):
        if str(name) not in known:
            line = line_of(document, f"/packs/{index}")
            where = f"{path}:{line}" if line else str(path)
            raise ConfigError(f"{where}: {_unknown_pack(str(name))}")
    fail_on = document.get("fail-on")
    components, exceptions = _components_and_exceptions(path, document)
    deferred: list[DeferredSetting] = []
    exception_levels: dict[str, Level] = {}
    rules = _rule_settings(
        path, document, document.get("rules"), "/rules", deferred=deferred, exception_levels=exception_levels
    )
    return Policy(
        path=path,
        packs=list(document.get("packs") or DEFAULT_PACKS),
        rules=rules,
        fail_on=Level(fail_on) if fail_on else None,
        components=components,
        exceptions=exceptions,
        exceptions_horizon_days=int(document.get("exceptions-horizon-days", DEFAULT_HORIZON_DAYS)),
        exceptions_warning_days=int(document.get("exceptions-warning-days", DEFAULT_WARNING_DAYS)),
        rego=_rego_paths(path, document),
        signers=_signers(path, document),
        rego_rules=deferred,
        exception_levels=exception_levels,
        rule_lines=_rule_lines(document),
        pack_lines={
            str(name): line
            for index, name in enumerate(document.get("packs") or [])
            if (line := _entry_line(document, "packs", index)) is not None
        },
    )


def _entry_line(document: Any, key: str, index_or_key: int | str) -> int | None:
    """1-based line of ``document[key][index_or_key]`` as ruamel recorded it, or None."""
    container = document.get(key)
    lc = getattr(container, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(index_or_key, int):
            return int(lc.item(index_or_key)[0]) + 1
        return int(lc.key(index_or_key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _rule_lines(document: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in document.get("rules") or {}:
        line = _entry_line(document, "rules", key)
        if line is None:
            continue
        out[str(key)] = line
        check = find_check(str(key))
        if check is not None:
            out[check.id] = line
    return out


def _signers(path: Path, document: Any) -> list[Any]:
    """The policy's ``signers:`` as SignerPolicy values (ConfigError naming the entry and line)."""
    from slsalint.signing import with_loaded_key
    from slsalint.verify import SignerPolicy

    out = []
    for index, entry in enumerate(document.get("signers") or []):
        line = line_of(document, f"/signers/{index}")
        name = f"{path}:{line}: signers[{index}]" if line else f"{path}: signers[{index}]"
        signer = SignerPolicy.from_mapping(_plain(entry), name=name, base=path.parent)
        out.append(with_loaded_key(signer, f"{name}: key "))
    return out


def _components_and_exceptions(path: Path, document: Any) -> tuple[ComponentMap, Path | None]:
    """The components map and the exceptions file path (relative to the policy file)."""
    from slsalint.components import parse_components

    def locate(pointer: str) -> str:
        line = line_of(document, pointer)
        return f"{path}:{line}" if line else str(path)

    base_dir = path.parent
    raw = document.get("components") or {}
    components = parse_components(
        _plain(raw), base_dir=base_dir, locate=locate, line_at=lambda pointer: line_of(document, pointer)
    )
    from slsalint.signing import with_loaded_key
    from slsalint.verify import SignerPolicy

    for component in components.components:  # checked now, built again per image when used
        for index, spec in enumerate(component.signers):
            where = locate(f"/components/{component.name}/signers/{index}")
            name = f"{where}: components.{component.name}.signers[{index}]"
            with_loaded_key(SignerPolicy.from_mapping(spec.as_json(), name=name), f"{name}: key ")
    exceptions = document.get("exceptions")
    return components, (base_dir / str(exceptions)) if exceptions else None


def plan_rules(
    policy: Policy,
    *,
    packs: list[str] | None = None,
    enable: list[str] | None = None,
    disable: list[str] | None = None,
) -> tuple[list[PlannedRule], list[Pack]]:
    """The rules that run, in registry order, with their effective level and options."""
    pack_names = packs or policy.packs
    loaded = [load_pack(name) for name in pack_names]
    settings: dict[str, RuleSetting] = {}
    for rule_id in ALWAYS_ON:
        settings[rule_id] = RuleSetting()
    for pack in loaded:
        for rule_id, setting in pack.rules.items():
            merged = settings.setdefault(rule_id, RuleSetting())
            merged.level = setting.level or merged.level
            merged.options = {**merged.options, **setting.options}
    for rule_id, setting in policy.rules.items():
        merged = settings.setdefault(rule_id, RuleSetting())
        merged.level = setting.level or merged.level
        merged.options = {**merged.options, **setting.options}
    # A component's source and ref are expectations: they run SL401/SL402 whatever the packs say
    # (an explicit `level: off` or --disable still turns them off).
    if any(c.source for c in policy.components.components):
        settings.setdefault("SL401", RuleSetting())
    if any(c.ref for c in policy.components.components):
        settings.setdefault("SL402", RuleSetting())
    for key in enable or []:
        check = find_check(key)
        if check is None:
            raise ConfigError(f"--enable {key}: unknown rule{rule_hint(key)} (see `slsalint rules list`)")
        merged = settings.setdefault(check.id, RuleSetting())
        if merged.level is Level.OFF:
            merged.level = None
    for key in disable or []:
        check = find_check(key)
        if check is None and key.strip() in (RULE_ERROR.id, RULE_ERROR.name, RULE_ERROR.id.lower()):
            raise ConfigError(
                f"--disable {key}: {RULE_ERROR.id} ({RULE_ERROR.name}) cannot be disabled: a rule that "
                "fails to evaluate is always an error"
            )
        if check is None:
            raise ConfigError(f"--disable {key}: unknown rule{rule_hint(key)} (see `slsalint rules list`)")
        if check.id in ALWAYS_ON:
            raise ConfigError(f"--disable {key}: {_always_on(check)}")
        settings.setdefault(check.id, RuleSetting()).level = Level.OFF
    planned = []
    for check in CHECKS:
        if check.id not in settings:
            continue
        setting = settings[check.id]
        level = setting.level or check.level
        if level is Level.OFF:
            continue
        planned.append(PlannedRule(check, level, setting.options))
    return planned, loaded


__all__ = [
    "DEFAULT_POLICY",
    "RULE_ERROR",
    "DeferredSetting",
    "Pack",
    "PlannedRule",
    "Policy",
    "RuleSetting",
    "available_packs",
    "default_policy",
    "load_pack",
    "load_policy",
    "plan_rules",
]
