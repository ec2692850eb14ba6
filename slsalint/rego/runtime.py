"""The Rego rules of one run and their engine: start-up checks, then findings per checked image.

Policies are parsed once per run. For each checked image, each (platform, attestation) input
document is handed to the engine once and every selected rule is evaluated against it. A rule that
fails to evaluate (a built-in error such as ``1/0``, a result that is not a finding, a timeout, an
engine failure) is an SL904 finding naming the rule, its file and line, and the error: a rule that
could not be judged never passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.errors import ConfigError, OperationalError
from slsalint.model import JSON, Finding, Level, PlatformTarget, RuleMeta, Target
from slsalint.rego.modules import INTERNAL, RegoModule, RegoRule, RegoRuleSet, external_calls
from slsalint.rego.protocol import (
    DEFAULT_TIMEOUT,
    EngineFailure,
    EngineModule,
    Outcome,
    RegoEngine,
    RegoLoadError,
)
from slsalint.rego.scanner import display_path

if TYPE_CHECKING:
    from slsalint.model import Attestation
    from slsalint.policy import Policy
    from slsalint.rego.watchdog import Watchdog


_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
"""Input documents as compact JSON (one encoder for the run: cheaper than json.dumps per call)."""


@dataclass(frozen=True)
class RegoOptions:
    """What a run asks of its Rego rules (the engine passes these down as values)."""

    policy: Policy
    packs: Sequence[str] | None = None
    rego: Sequence[Path] = ()
    enable: Sequence[str] = ()
    disable: Sequence[str] = ()
    timeout: float = DEFAULT_TIMEOUT
    isolation: str = "in-process"


@dataclass
class OpenEngine:
    """An engine with its modules loaded, and the watchdog bounding it (in-process)."""

    engine: RegoEngine
    broken: str | None = None
    """Why the engine cannot run at all (every rule then reports SL904), or None."""
    watchdog: Watchdog | None = field(default=None, repr=False)

    def close(self) -> None:
        try:
            self.engine.close()
        finally:
            if self.watchdog is not None:
                self.watchdog.close()


def make_engine(*, timeout: float, isolation: str) -> tuple[RegoEngine, Watchdog | None]:
    if isolation == "worker":
        from slsalint.rego.worker import WorkerEngine

        return WorkerEngine(timeout=timeout), None
    if isolation != "in-process":
        raise ConfigError(f"--rego-isolation {isolation!r}: expected in-process or worker")
    from slsalint.rego.regorus_engine import RegorusEngine
    from slsalint.rego.watchdog import Watchdog

    watchdog = Watchdog(timeout)
    try:
        watchdog.start()
    except OSError as exc:
        watchdog.close()
        raise OperationalError(
            f"cannot start the watchdog that bounds Rego rules in time: {exc}; "
            "--rego-isolation worker does without it"
        ) from None
    return RegorusEngine(watchdog=watchdog), watchdog


def clean(text: str, rules: Sequence[RegoRule]) -> str:
    """``text`` with internal rule names replaced by ``deny``/``warn``."""
    kinds = {r.internal: r.kind for r in rules}
    return INTERNAL.sub(lambda m: kinds.get(m.group(0), "rule"), text)


def load_error(exc: RegoLoadError, modules: Sequence[RegoModule], rules: Sequence[RegoRule]) -> ConfigError:
    """A one-line ConfigError naming the file (and line) the engine rejected."""
    by_name = {str(m.path): m for m in modules}
    where = "Rego modules"
    if exc.location is not None:
        module = by_name.get(exc.location.module)
        where = display_path(module.path) if module is not None else exc.location.module
        if exc.location.line:
            where += f":{exc.location.line}"
            if exc.location.column:
                where += f":{exc.location.column}"
    return ConfigError(f"{where}: Rego syntax error: {clean(exc.message, rules)}")


def check_calls(engine: RegoEngine, modules: Sequence[RegoModule]) -> None:
    """Every function the modules call without defining or importing it must be a built-in of the
    engine (else a load error naming the file and line)."""
    from slsalint.rego.regorus_engine import DENIED_BUILTINS

    available = engine.builtins()
    if not available:
        return
    for name, (path, line) in sorted(
        external_calls(modules).items(), key=lambda kv: (str(kv[1][0]), kv[1][1])
    ):
        where = f"{display_path(path)}:{line}"
        if name in DENIED_BUILTINS:
            raise ConfigError(
                f"{where}: `{name}` is not available to slsalint policies (they see neither the network "
                "nor the process environment); see docs/rego.md"
            )
        if name not in available:
            raise ConfigError(
                f"{where}: `{name}` is neither defined by the loaded modules nor a built-in function of "
                "the Rego engine, so the rule could never fire; see docs/rego.md"
            )


def open_engine(
    modules: Sequence[RegoModule],
    rules: Sequence[RegoRule],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    isolation: str = "in-process",
    compiled: bool = True,
) -> OpenEngine:
    """Start an engine and load the modules (the rewritten ones when ``compiled``), check their
    calls and evaluate every rule once on an empty input to find errors that no input can avoid.
    Load errors raise ConfigError (exit 2); an engine that cannot run gives ``broken``."""
    engine, watchdog = make_engine(timeout=timeout, isolation=isolation)
    opened = OpenEngine(engine, None, watchdog)
    try:
        labels = {r.query: f"Rego rule {r.describe()}" for r in rules}
        sources = [EngineModule(str(m.path), m.compiled if compiled else m.source) for m in modules]
        try:
            engine.load(sources, labels)
        except RegoLoadError as exc:
            raise load_error(exc, modules, rules) from None
        except EngineFailure as exc:
            opened.broken = str(exc)
            return opened
        check_calls(engine, modules)
        if rules:
            for rule, outcome in zip(rules, engine.evaluate("{}", [r.query for r in rules]), strict=True):
                if outcome.error is not None and outcome.static:
                    raise ConfigError(
                        f"{rule.location}: Rego rule {rule.id} (`{rule.kind}`) does not compile: "
                        f"{clean(outcome.error, rules)}"
                    )
    except BaseException:
        opened.close()
        raise
    return opened


class RegoRuntime:
    """The loaded Rego rules of one run and their engine: findings per target."""

    def __init__(
        self,
        ruleset: RegoRuleSet,
        rules: list[RegoRule],
        opened: OpenEngine,
        *,
        levels: dict[str, Level] | None = None,
    ):
        self.ruleset = ruleset
        self.rules = rules
        self.opened = opened
        self.levels = levels or {}
        """Levels the policy file's ``rules:`` gives Rego rules (by id)."""
        self._queries = [r.query for r in rules]

    @property
    def engine(self) -> RegoEngine:
        return self.opened.engine

    def rule_metas(self) -> list[RuleMeta]:
        from slsalint.rego.selection import active_metas

        return active_metas(self.ruleset, self.rules, self.levels)

    def close(self) -> None:
        self.opened.close()

    def findings(self, target: Target) -> list[Finding]:
        from slsalint.rego_input import input_document

        if not self.rules:
            return []
        out: list[Finding] = []
        for platform in target.platforms:
            for attestation in platform.attestations:
                if self.opened.broken is not None:
                    outcomes = [Outcome(error=self.opened.broken) for _ in self.rules]
                else:
                    document = _ENCODER.encode(input_document(target, platform, attestation))
                    outcomes = self.engine.evaluate(document, self._queries)
                for rule, outcome in zip(self.rules, outcomes, strict=True):
                    if outcome.defined and outcome.value == [] and outcome.error is None:
                        continue  # the rule passed on this document
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
    if outcome.error is not None:
        return [_rule_error(base, rule, outcome.error)]
    if not outcome.defined:
        return [_rule_error(base, rule, "the rule is undefined (a partial set rule is always defined)")]
    if not isinstance(outcome.value, list):
        shown = json.dumps(outcome.value)[:120]
        return [_rule_error(base, rule, f"the rule did not evaluate to a set: {shown}")]
    out = []
    for value in outcome.value:
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

    reason = " ".join(INTERNAL.sub(rule.kind, reason).split())
    return replace(
        base,
        rule_id=RULE_ERROR.id,
        rule_name=RULE_ERROR.name,
        level=Level.ERROR,
        message=f"Rego rule {rule.describe()} failed to evaluate: {reason}",
        remediation="a rule that cannot be evaluated never passes; fix the rule or the input it trips on "
        "(docs/rego.md)",
    )


def open_rego(options: RegoOptions) -> tuple[RegoRuntime | None, list[str], list[str]]:
    """Load the Rego rules of a run (packs, policy ``rego:``, ``--rego``) and start the engine.

    Returns the runtime (None without Rego rules) and the ``--enable`` / ``--disable`` keys that are
    left for the built-in rules. Load errors raise ConfigError (exit 2).
    """
    from slsalint.rego.selection import select_rules

    selection = select_rules(
        options.policy,
        packs=options.packs,
        rego=options.rego,
        enable=options.enable,
        disable=options.disable,
    )
    if selection.ruleset is None:
        return None, selection.enable, selection.disable
    opened = open_engine(
        selection.ruleset.modules, selection.rules, timeout=options.timeout, isolation=options.isolation
    )
    runtime = RegoRuntime(selection.ruleset, selection.rules, opened, levels=selection.levels)
    return runtime, selection.enable, selection.disable
