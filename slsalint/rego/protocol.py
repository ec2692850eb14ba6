"""The narrow interface between slsalint and a Rego engine.

An engine loads modules once, then evaluates queries (``data.pkg.rule``) against one input document
at a time. Everything slsalint knows about rules, findings and tests lives above this interface;
everything the engine library needs lives below it, so the backend can be swapped again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from slsalint.model import JSON

DEFAULT_TIMEOUT = 10.0
"""Seconds one rule (or the compilation of the modules) may take before it counts as failed."""

ISOLATIONS = ("in-process", "worker")
"""Where the engine runs: in slsalint's own process, or in a worker process per run."""


@dataclass(frozen=True)
class EngineModule:
    """One Rego module as the engine sees it: a name (its file) and its text."""

    name: str
    source: str


@dataclass(frozen=True)
class Outcome:
    """The result of one query on one input document.

    ``defined`` with ``value``: the query's value. Not ``defined`` and no ``error``: undefined.
    ``error``: the one-line reason it has no value (a built-in error, an engine failure, a timeout).
    """

    value: JSON = None
    defined: bool = False
    error: str | None = None
    static: bool = False
    """The error is one no input can avoid (an unsafe variable, an unknown function): the modules
    are reported as not loading when the engine starts."""


@dataclass(frozen=True)
class Location:
    """Where the engine located a problem: module name, line and column (1-based; 0 unknown)."""

    module: str
    line: int = 0
    column: int = 0


class RegoLoadError(Exception):
    """The engine rejected the modules (a syntax or compile error): a configuration error."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class EngineFailure(Exception):
    """The engine cannot run at all (not installed, crashed while loading, timed out loading)."""


class RegoEngine(Protocol):
    """A Rego evaluator: load modules once, then evaluate queries against input documents."""

    description: str
    """Engine name and version and where it runs (for messages and docs)."""

    def load(self, modules: Sequence[EngineModule], labels: Mapping[str, str] | None = None) -> None:
        """Parse ``modules``. ``labels`` name queries for messages (``query -> what it is``).

        Raises RegoLoadError for modules the engine rejects, EngineFailure when it cannot run.
        """

    def builtins(self) -> frozenset[str]:
        """Names of the built-in functions policies may call."""

    def evaluate(self, document: str | None, queries: Sequence[str]) -> list[Outcome]:
        """One Outcome per query, in order, all against ``document`` (JSON text of the input
        document; None: no input). Never raises for a failing query: the failure is its Outcome."""

    def close(self) -> None:
        """Release the engine (stop its worker, if any)."""
