"""Generate one documentation page per rule (``docs/rules/<ID>.md``) and an index from the rule
metadata, so the docs can never drift from the code. ``make docs`` runs it; a test checks that the
committed pages are current."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from slsalint.model import RuleMeta


def _selection(meta: RuleMeta, packs: list[str]) -> list[str]:
    from slsalint.exceptions import COULD_NOT_JUDGE, EXCEPTION_NOTES

    if meta.id in COULD_NOT_JUDGE:
        return [
            "- Packs: all (it runs whatever the packs say)",
            "- Always an `error`: it cannot be disabled, lowered or waived by an exception, because it "
            "means slsalint could not judge (see [security.md](../security.md))",
        ]
    if meta.id in EXCEPTION_NOTES:
        return [
            "- Packs: all (reported whenever an exceptions file is used)",
            f"- Level set in the policy file (`rules: {{{meta.id}: {{level: warning}}}}`; `off` drops it); "
            "never waivable",
        ]
    return [
        f"- Packs: {', '.join(f'`{p}`' for p in packs) if packs else 'none (enable it explicitly)'}",
        f"- Select with `--enable {meta.id}` or `--enable {meta.name}`; disable with `--disable {meta.id}`",
    ]


def rule_page(meta: RuleMeta, packs: list[str]) -> str:
    lines = [
        f"# {meta.id} {meta.name}",
        "",
        f"*{meta.summary}.*",
        "",
        f"- Default level: `{meta.level.value}`",
        f"- Security severity (SARIF): {meta.security_severity:.1f}",
        *_selection(meta, packs),
        "",
        meta.doc,
        "",
    ]
    if meta.options_schema.get("properties"):
        lines += [
            "## Options schema",
            "",
            "```json",
            json.dumps(meta.options_schema, indent=2),
            "```",
            "",
        ]
    return "\n".join(lines)


def index_page(rules: list[RuleMeta], packs: dict[str, list[str]]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rule metadata by `make docs`. Ids are stable and never reused.",
        "",
        "| id | name | level | packs | summary |",
        "|---|---|---|---|---|",
    ]
    for meta in rules:
        in_packs = ", ".join(packs.get(meta.id, [])) or "-"
        lines.append(
            f"| [{meta.id}]({meta.id}.md) | {meta.name} | {meta.level.value} | {in_packs} | {meta.summary} |"
        )
    return "\n".join(lines) + "\n"


def generate() -> dict[str, str]:
    """File name -> content of every generated page."""
    from slsalint.checks import builtin_rules
    from slsalint.policy import available_packs, load_pack

    packs: dict[str, list[str]] = {}
    for name in available_packs():
        for rule_id in load_pack(name).rules:
            packs.setdefault(rule_id, []).append(name)
    rules = builtin_rules()
    pages = {f"{meta.id}.md": rule_page(meta, packs.get(meta.id, [])) for meta in rules}
    pages["README.md"] = index_page(rules, packs)
    return pages


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/rules")
    out.mkdir(parents=True, exist_ok=True)
    for name, content in generate().items():
        (out / name).write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
