"""Where a finding sits in the repository, and what it is about independent of digests.

:func:`annotate` runs once per report (the engine calls it after exceptions were applied). It sets
on every finding:

- ``subject``: the component name when the policy's components map claims the image, else the
  normalized repository name without tag or digest (``docker.io/library/alpine``), so that
  fingerprints do not change between rebuilds or between ``alpine`` and
  ``docker.io/library/alpine:3.20@sha256:…``;
- ``evidence``: the kind of evidence the finding is about;
- ``config``: the configuration line a user can act on, first of

  1. SL901-SL903: the exceptions entry the finding is about;
  2. a finding about what a component expects of its images: the component's ``source:`` line
     for SL401, ``ref:`` for SL402, ``signers:`` for the signature rules when the component
     names its own signers;
  3. the policy's ``rules:`` entry that configured the rule;
  4. the ``packs:`` entry of the policy that enabled it (the first pack listing the rule);
  5. a Rego rule's own source line (when it is not a file shipped with slsalint).

  None when nothing configured it (the SARIF writer then uses ``--sarif-anchor``).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.model import ConfigLine, Finding, TargetResult, mask_digests

if TYPE_CHECKING:
    from slsalint.components import Expectation
    from slsalint.exceptions import ExceptionsFile
    from slsalint.policy import Pack, Policy

EXCEPTION_RULE_IDS = frozenset({"SL901", "SL902", "SL903"})
SIGNATURE_RULE_IDS = frozenset({"SL201", "SL202", "SL203", "SL204", "SL205", "SL206"})

__all__ = ["annotate", "subject_of"]


def subject_of(result: TargetResult, expectation: Expectation | None) -> str:
    """The component name, else the image's normalized name without tag or digest."""
    if expectation is not None:
        return f"component:{expectation.component.name}"
    target = result.target
    if target.kind != "image":
        return mask_digests(target.reference)
    from slsalint.components import identify_target

    name = identify_target(target).name
    # An OCI layout without a recorded image name: its path (string tests, no Path per target).
    if os.path.isabs(name):  # noqa: PTH117
        return _relative_to_cwd(name, os.getcwd())  # noqa: PTH109
    return name


@functools.lru_cache(maxsize=1024)
def _relative_to_cwd(name: str, cwd: str) -> str:
    """``name`` relative to the working directory ``cwd`` when it lies below it (made once per
    name and directory: every target of a run asks)."""
    with contextlib.suppress(ValueError):
        return str(Path(name).relative_to(Path(cwd)))
    return name


def annotate(
    resolved: Sequence[tuple[TargetResult, Expectation | None]],
    policy: Policy,
    packs: Sequence[Pack],
    exceptions: ExceptionsFile | None = None,
    rego_rules: Sequence[Any] = (),
) -> None:
    """Set ``subject``, ``evidence`` and ``config`` on every finding (see the module docs)."""
    from slsalint.resources import RULES_DIR

    policy_path = str(policy.path) if policy.path is not None else None
    rego_by_id: dict[str, Any] = {}
    for rule in rego_rules:
        rego_by_id.setdefault(rule.id, rule)
    shipped = RULES_DIR.resolve()

    # Where a rule is configured depends on the rule only: found once per rule, not per finding.
    rule_lines: dict[tuple[str, str], ConfigLine | None] = {}
    rego_lines: dict[str, ConfigLine | None] = {}

    def rule_line(finding: Finding) -> ConfigLine | None:
        if policy_path is None:
            return None
        key = (finding.rule_id, finding.rule_name)
        if key not in rule_lines:
            rule_lines[key] = _rule_line(finding)
        return rule_lines[key]

    def rego_line(finding: Finding) -> ConfigLine | None:
        if finding.rule_id not in rego_lines:
            rego_lines[finding.rule_id] = _rego_line(finding)
        return rego_lines[finding.rule_id]

    def _rule_line(finding: Finding) -> ConfigLine | None:
        if policy_path is None:
            return None
        for key in (finding.rule_id, finding.rule_name):
            line = policy.rule_lines.get(key)
            if line is not None:
                return ConfigLine(policy_path, line, f"rules.{key}")
        rego = rego_by_id.get(finding.rule_id)
        pack_names = [p.name for p in packs if finding.rule_id in p.rules]
        if rego is not None and rego.pack:
            pack_names.append(str(rego.pack))
        for name in pack_names:
            line = policy.pack_lines.get(name)
            if line is not None:
                return ConfigLine(policy_path, line, f"packs.{name}")
        return None

    def _rego_line(finding: Finding) -> ConfigLine | None:
        rego = rego_by_id.get(finding.rule_id)
        if rego is None:
            return None
        path = Path(rego.path)
        try:
            path.resolve().relative_to(shipped)
            return None  # a file shipped with slsalint, not one of the repository's
        except ValueError:
            pass
        return ConfigLine(_display(path), int(rego.line), f"rego.{rego.id}")

    def component_line(finding: Finding, expectation: Expectation) -> ConfigLine | None:
        component = expectation.component
        if policy_path is None or component.line is None:
            return None
        key = None
        if finding.rule_id == "SL401":
            key = "source"
        elif finding.rule_id == "SL402":
            key = "ref"
        elif finding.rule_id in SIGNATURE_RULE_IDS and component.signers:
            key = "signers"
        if key is None:
            return None
        if key in component.key_lines:
            return ConfigLine(policy_path, component.key_lines[key], f"components.{component.name}.{key}")
        return ConfigLine(policy_path, component.line, f"components.{component.name}")

    def exception_line(finding: Finding) -> ConfigLine | None:
        if exceptions is None or not finding.pointer or not finding.pointer.startswith("/exceptions/"):
            return None
        try:
            index = int(finding.pointer.split("/")[2])
            entry = exceptions.entries[index]
        except (ValueError, IndexError):
            return None
        if entry.line is None:
            return None
        return ConfigLine(str(exceptions.path), entry.line, f"exceptions[{index}]")

    for result, expectation in resolved:
        subject = subject_of(result, expectation)
        for finding in result.findings:
            finding.subject = subject
            if finding.source and finding.evidence is None:
                finding.evidence = finding.source.split(" ", 1)[0]
            if finding.config is not None:
                continue
            located: ConfigLine | None = None
            if finding.rule_id in EXCEPTION_RULE_IDS:
                located = exception_line(finding)
            if located is None and expectation is not None:
                located = component_line(finding, expectation)
            if located is None:
                located = rule_line(finding) or rego_line(finding)
            finding.config = located


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
