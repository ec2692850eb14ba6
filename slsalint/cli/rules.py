"""``slsalint rules list|show``: the rule catalogue and each rule's documentation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from slsalint.cli._common import text_or_json
from slsalint.errors import ConfigError

if TYPE_CHECKING:
    from slsalint.model import RuleMeta

app = typer.Typer(
    help="""List rules and show their documentation.

    Examples:

    \b
      slsalint rules list
      slsalint rules list --format json
      slsalint rules list --policy slsalint.yaml
      slsalint rules show SL302
    """,
    no_args_is_help=True,
)


def _packs_by_rule() -> dict[str, list[str]]:
    from slsalint.policy import available_packs, load_pack

    out: dict[str, list[str]] = {}
    for name in available_packs():
        for rule_id in load_pack(name).rules:
            out.setdefault(rule_id, []).append(name)
    return out


REGO_OPTION_HELP = "Also list the Rego rules in this directory or file (repeatable)."


def _catalogue(rego: list[Path]) -> list[tuple[RuleMeta, list[str], str]]:
    """Built-in rules and the Rego rules of each bundled pack and of ``--rego``, by id: (rule, packs,
    source). The same Rego id may appear in two sources that are never loaded together."""
    from slsalint.checks import builtin_rules
    from slsalint.rego import catalogue

    packs = _packs_by_rule()
    out = [(meta, packs.get(meta.id, []), "built-in") for meta in builtin_rules()]
    for ruleset in catalogue(rego):
        for meta in ruleset.metas():
            first = next(r for r in ruleset.rules if r.id == meta.id)
            out.append((meta, [first.pack] if first.pack else [], first.location))
    return sorted(out, key=lambda entry: entry[0].id)


def _plan(
    policy_path: Path | None, packs: list[str], rego: list[Path]
) -> list[tuple[RuleMeta, list[str], str, dict[str, Any]]]:
    """The rules a check with this policy and these packs runs: (rule at its effective level,
    packs, source, options)."""
    from dataclasses import replace

    from slsalint.checks import RULE_ERROR, exception_rules
    from slsalint.policy import Policy, load_policy, plan_rules
    from slsalint.rego import select_rules

    policy = load_policy(policy_path) if policy_path is not None else Policy()
    selection = select_rules(policy, packs=packs or None, rego=rego)
    planned, loaded = plan_rules(policy, packs=packs or None)
    selected = {p.name for p in loaded}
    in_packs = {rule: [p for p in names if p in selected] for rule, names in _packs_by_rule().items()}
    out = [
        (
            replace(rule.check.meta(), level=rule.level),
            in_packs.get(rule.check.id, []),
            "built-in",
            rule.options,
        )
        for rule in planned
    ]
    for meta in selection.rule_metas():
        first = next(r for r in selection.rules if r.id == meta.id)
        out.append((meta, [first.pack] if first.pack else [], first.location, {}))
    if policy.exceptions is not None:
        out += [(meta, [], "built-in", {}) for meta in exception_rules(policy.exception_levels)]
    out.append((RULE_ERROR, [], "built-in", {}))
    return sorted(out, key=lambda entry: entry[0].id)


@app.command("list")
def list_rules(
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
    json_out: bool = typer.Option(False, "--json", hidden=True, help="The same as --format json."),
    rego: list[Path] = typer.Option([], "--rego", metavar="DIR", help=REGO_OPTION_HELP),
    policy: Path | None = typer.Option(
        None,
        "--policy",
        "-p",
        metavar="FILE",
        help="List only what a check with this policy file runs, at the effective levels, with options.",
    ),
    pack: list[str] = typer.Option(
        [],
        "--pack",
        metavar="PACK",
        help="List only what a check with this pack runs (repeatable; replaces the policy's packs).",
    ),
) -> None:
    """List every rule: built-in and Rego (bundled packs, --rego): id, name, level, packs, summary.

    With --policy or --pack, list the rules a check would run instead: levels and options after the
    packs and the policy's rules: section are applied.

    JSON: a list of {id, name, level, summary, packs, helpUri, source}, with options when planning.

    Examples:

    \b
      slsalint rules list
      slsalint rules list --format json
      slsalint rules list --policy slsalint.yaml
      slsalint rules list --pack slsa-build-l3 --rego policy/rego
    """
    import json

    fmt = text_or_json(fmt, json_alias=json_out)

    planning = policy is not None or bool(pack)
    if planning:
        rules = _plan(policy, list(pack), list(rego))
    else:
        rules = [(meta, in_packs, source, {}) for meta, in_packs, source in _catalogue(list(rego))]
    if fmt == "json":
        data = []
        for r, in_packs, source, options in rules:
            entry: dict[str, Any] = {
                "id": r.id,
                "name": r.name,
                "level": r.level.value,
                "summary": r.summary,
                "packs": in_packs,
                "helpUri": r.help_uri,
                "source": source,
            }
            if planning:
                entry["options"] = options
            data.append(entry)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    columns = ["id", "name", "level", "packs", "summary"] + (["options"] if planning else [])
    for column in columns:
        table.add_column(column, overflow="fold" if column == "options" else "ellipsis")
    for r, in_packs, source, options in rules:
        where = ", ".join(in_packs) or ("-" if source == "built-in" else source)
        row = [r.id, r.name, r.level.value, where, r.summary]
        if planning:
            row.append(json.dumps(options, separators=(",", ":")) if options else "-")
        table.add_row(*(Text(cell) for cell in row))
    Console(highlight=False).print(table)


@app.command("show")
def show_rule(
    rule: str = typer.Argument(..., metavar="RULE", help="Rule id (SL302) or name (provenance-mode-min)."),
    rego: list[Path] = typer.Option(
        [], "--rego", metavar="DIR", help="Also look in the Rego rules of this directory."
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
) -> None:
    """Show a rule's documentation: what it checks, why, how to fix, examples, options.

    JSON: a list (the same Rego id may name rules of two packs) of {id, name, level, summary,
    packs, helpUri, source, doc, optionsSchema}.

    Examples:

    \b
      slsalint rules show SL302
      slsalint rules show provenance-mode-min
      slsalint rules show SL404 --format json
      slsalint rules show ORG001 --rego policy/rego
    """
    import json

    fmt = text_or_json(fmt)
    catalogue = _catalogue(list(rego))
    matches = [entry for entry in catalogue if rule.upper() == entry[0].id or rule.lower() == entry[0].name]
    if not matches:
        from slsalint.suggest import did_you_mean

        names = [name for meta, _, _ in catalogue for name in (meta.id, meta.name)]
        raise ConfigError(f"unknown rule {rule!r}{did_you_mean(rule, names)} (see `slsalint rules list`)")
    if fmt == "json":
        data = [
            {
                "id": meta.id,
                "name": meta.name,
                "level": meta.level.value,
                "summary": meta.summary,
                "packs": in_packs,
                "helpUri": meta.help_uri,
                "source": source,
                "doc": meta.doc,
                "optionsSchema": meta.options_schema,
            }
            for meta, in_packs, source in matches
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(highlight=False)
    for number, (meta, _, _) in enumerate(matches):
        if number:
            console.print("", markup=False)
        console.print(f"{meta.id} {meta.name} (default level: {meta.level.value})", markup=False)
        console.print(Markdown(meta.doc))
        if meta.options_schema.get("properties"):
            console.print("Options schema:", markup=False)
            console.print(json.dumps(meta.options_schema, indent=2), markup=False)
        if meta.help_uri:
            console.print(f"Documentation: {meta.help_uri}", markup=False)
