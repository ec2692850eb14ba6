"""``slsalint rules list|show``: the rule catalogue and each rule's documentation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from slsalint.errors import ConfigError

if TYPE_CHECKING:
    from slsalint.model import RuleMeta

app = typer.Typer(help="List rules and show their documentation.", no_args_is_help=True)


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


@app.command("list")
def list_rules(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    rego: list[Path] = typer.Option([], "--rego", help=REGO_OPTION_HELP),
) -> None:
    """List every rule: built-in and Rego (bundled packs, --rego): id, name, level, packs, summary."""
    import json

    rules = _catalogue(list(rego))
    if json_out:
        data = [
            {
                "id": r.id,
                "name": r.name,
                "level": r.level.value,
                "summary": r.summary,
                "packs": in_packs,
                "helpUri": r.help_uri,
                "source": source,
            }
            for r, in_packs, source in rules
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "name", "level", "packs", "summary"):
        table.add_column(column)
    for r, in_packs, source in rules:
        where = ", ".join(in_packs) or ("-" if source == "built-in" else source)
        table.add_row(r.id, r.name, r.level.value, where, r.summary)
    Console(highlight=False).print(table)


@app.command("show")
def show_rule(
    rule: str = typer.Argument(..., help="Rule id (SL302) or name (provenance-mode-min)."),
    rego: list[Path] = typer.Option([], "--rego", help="Also look in the Rego rules of this directory."),
) -> None:
    """Show a rule's documentation: what it checks, why, how to fix, examples, options."""
    import json

    found = False
    for meta, _, _ in _catalogue(list(rego)):
        if rule.upper() == meta.id or rule.lower() == meta.name:
            from rich.console import Console
            from rich.markdown import Markdown

            console = Console(highlight=False)
            if found:
                console.print("", markup=False)
            found = True
            console.print(f"{meta.id} {meta.name} (default level: {meta.level.value})", markup=False)
            console.print(Markdown(meta.doc))
            props = meta.options_schema.get("properties")
            if props:
                console.print("Options schema:", markup=False)
                console.print(json.dumps(meta.options_schema, indent=2), markup=False)
            if meta.help_uri:
                console.print(f"Documentation: {meta.help_uri}", markup=False)
    if not found:
        raise ConfigError(f"unknown rule {rule!r} (see `slsalint rules list`)")
