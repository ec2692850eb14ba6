"""Rule documentation is complete and the committed pages match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from slsalint.checks import builtin_rules
from slsalint.docsgen import generate

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "**What it checks.**",
    "**Why it matters.**",
    "**How to fix.**",
    "**Passing example.**",
    "**Failing example.**",
)


@pytest.mark.parametrize("rule", builtin_rules(), ids=lambda r: r.id)
def test_every_rule_is_documented(rule: object) -> None:
    from slsalint.model import RuleMeta

    assert isinstance(rule, RuleMeta)
    for section in SECTIONS:
        assert section in rule.doc, f"{rule.id} lacks {section}"
    assert rule.summary and rule.name and rule.help_uri.endswith(f"{rule.id}.md")
    assert 0.0 < rule.security_severity <= 10.0
    if rule.options_schema.get("properties"):
        assert "**Options.**" in rule.doc


def test_generated_rule_pages_are_current() -> None:
    for name, content in generate().items():
        path = ROOT / "docs" / "rules" / name
        assert path.is_file(), f"docs/rules/{name} is missing: run `make docs`"
        assert path.read_text(encoding="utf-8") == content, f"docs/rules/{name} is stale: run `make docs`"


def test_rule_ids_and_names_are_unique() -> None:
    rules = builtin_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
