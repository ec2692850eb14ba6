"""Rego rules: loading, metadata, the engine interface and its backend, findings, pack tests.

A Rego rule is a partial set rule named ``deny`` (level error) or ``warn`` (level warning) in any
package. Its identity and documentation come from ``# METADATA`` comment blocks (OPA's annotation
format), scoped to the rule or to the package: ``title``, ``description``, ``custom.id`` (required,
e.g. ``ORG001``; the ``SL`` prefix is reserved for built-in rules), ``custom.severity`` (error,
warning or note), optionally ``custom.name`` and ``related_resources``. Each result is a string or
an object with a string ``msg`` (optionally ``pointer``, ``expected``, ``actual``, ``remediation``).

One module per concern:

- :mod:`.scanner`: the Rego text scanner and ``# METADATA`` blocks;
- :mod:`.modules`: modules, rules and tests as slsalint loads them;
- :mod:`.protocol`: the narrow engine interface (:class:`RegoEngine`);
- :mod:`.regorus_engine`: the backend (regorus), in-process; :mod:`.watchdog` bounds its calls;
- :mod:`.worker`: the same backend in a worker process (``--rego-isolation worker``);
- :mod:`.runtime`: start-up checks and findings per image; :mod:`.selection`: which rules run;
- :mod:`.packtests`: ``slsalint packs test``.

Nothing here imports the engine library until a run has Rego rules.
"""

from slsalint.rego.modules import (
    RegoModule,
    RegoRule,
    RegoRuleSet,
    RegoSource,
    RegoTest,
    external_calls,
    load_rules,
    module_files,
    parse_module,
)
from slsalint.rego.packtests import TestResult, run_pack_tests
from slsalint.rego.protocol import (
    DEFAULT_TIMEOUT,
    ISOLATIONS,
    EngineFailure,
    EngineModule,
    Outcome,
    RegoEngine,
    RegoLoadError,
)
from slsalint.rego.runtime import RegoOptions, RegoRuntime, open_engine, open_rego, result_fields
from slsalint.rego.scanner import display_path
from slsalint.rego.selection import RegoSelection, catalogue, pack_sources, select_rules

__all__ = [
    "DEFAULT_TIMEOUT",
    "ISOLATIONS",
    "EngineFailure",
    "EngineModule",
    "Outcome",
    "RegoEngine",
    "RegoLoadError",
    "RegoModule",
    "RegoOptions",
    "RegoRule",
    "RegoRuleSet",
    "RegoRuntime",
    "RegoSelection",
    "RegoSource",
    "RegoTest",
    "TestResult",
    "catalogue",
    "display_path",
    "external_calls",
    "load_rules",
    "module_files",
    "open_engine",
    "open_rego",
    "pack_sources",
    "parse_module",
    "result_fields",
    "run_pack_tests",
    "select_rules",
]
