"""Which Rego rules a run loads (bundled packs, the policy's ``rego:``, ``--rego``) and at which
level they run (metadata, the policy's ``rules:``, ``--enable`` / ``--disable``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from slsalint.errors import ConfigError
from slsalint.model import Level, RuleMeta
from slsalint.rego.modules import RegoRule, RegoRuleSet, RegoSource, load_rules

if TYPE_CHECKING:
    from slsalint.policy import Policy


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
            raise ConfigError(f"{setting.where}: {_unknown_rule(setting.key, None)}")
        return RegoSelection(None, [], {}, list(enable), list(disable))
    ruleset = load_rules(sources)
    levels: dict[str, Level] = {}
    disabled: set[str] = set()
    for setting in policy.rego_rules:
        found = ruleset.find(setting.key)
        if not found:
            raise ConfigError(f"{setting.where}: {_unknown_rule(setting.key, ruleset)}")
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


def _unknown_rule(key: str, ruleset: RegoRuleSet | None) -> str:
    from slsalint.suggest import rule_hint

    loaded = [name for r in ruleset.rules for name in (r.id, r.name)] if ruleset is not None else []
    return (
        f"unknown rule {key!r}{rule_hint(key, loaded)}: neither a built-in rule nor a Rego rule "
        "loaded in this run (see `slsalint rules list`, with --rego DIR for your own rules)"
    )
