"""``slsalint rules list|show``: the rule catalogue and each rule's documentation."""

from __future__ import annotations

import sys

import typer

from slsalint.errors import ConfigError

app = typer.Typer(help="List rules and show their documentation.", no_args_is_help=True)


def _packs_by_rule() -> dict[str, list[str]]:
    from slsalint.policy import available_packs, load_pack

    out: dict[str, list[str]] = {}
    for name in available_packs():
        for rule_id in load_pack(name).rules:
            out.setdefault(rule_id, []).append(name)
    return out


@app.command("list")
def list_rules(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List every built-in rule: id, name, default level, packs, summary."""
    import json

    from slsalint.checks import builtin_rules

    packs = _packs_by_rule()
    rules = builtin_rules()
    if json_out:
        data = [
            {
                "id": r.id,
                "name": r.name,
                "level": r.level.value,
                "summary": r.summary,
                "packs": packs.get(r.id, []),
                "helpUri": r.help_uri,
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("id", "name", "level", "packs", "summary"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.id, r.name, r.level.value, ", ".join(packs.get(r.id, [])) or "-", r.summary)
    Console(highlight=False).print(table)


@app.command("show")
def show_rule(rule: str = typer.Argument(..., help="Rule id (SL302) or name (provenance-mode-min).")) -> None:
    """Show a rule's documentation: what it checks, why, how to fix, examples, options."""
    import json

    from slsalint.checks import builtin_rules

    for meta in builtin_rules():
        if rule.upper() == meta.id or rule.lower() == meta.name:
            from rich.console import Console
            from rich.markdown import Markdown

            console = Console(highlight=False)
            console.print(f"{meta.id} {meta.name} (default level: {meta.level.value})", markup=False)
            console.print(Markdown(meta.doc))
            props = meta.options_schema.get("properties")
            if props:
                console.print("Options schema:", markup=False)
                console.print(json.dumps(meta.options_schema, indent=2), markup=False)
            console.print(f"Documentation: {meta.help_uri}", markup=False)
            return
    raise ConfigError(f"unknown rule {rule!r} (see `slsalint rules list`)")
