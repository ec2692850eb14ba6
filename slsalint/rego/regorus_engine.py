"""The Rego backend: regorus (a Rego interpreter in Rust), from the ``gordon-to-regorus`` wheel.

It was chosen by conformance against real OPA (docs/rego.md, tests/rego/test_opa_conformance.py):
regorus agrees with OPA on the probe suite except the divergences listed there, reports built-in
errors loudly (``1/0``, ``to_number("lots")``, a bad regex are errors, never a silent undefined) and
cannot crash the interpreter (memory-safe Rust; panics become exceptions). It holds the interpreter
lock while it evaluates, so its calls are bounded by :class:`slsalint.rego.watchdog.Watchdog` when
it runs in slsalint's own process.

Policies see no process environment: ``opa.runtime()`` is replaced by a function returning an
empty object, and ``http.send`` (which could reach the network) is refused when modules load.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slsalint import jsonio
from slsalint.rego.protocol import EngineFailure, EngineModule, Location, Outcome, RegoLoadError

if TYPE_CHECKING:
    from slsalint.rego.watchdog import Watchdog

PACKAGE = "gordon-to-regorus"
DENIED_BUILTINS = frozenset({"http.send", "net.lookup_ip_addr"})
"""Built-ins a policy may not call: they reach the network or the process environment."""
MAX_RESULT_CHARS = 32 * 1024 * 1024
"""Largest answer (JSON text) accepted for one query."""
RESULT_DEPTH = jsonio.MAX_DEPTH
"""Deepest nesting accepted in a query's value."""
_WRAPPER_DEPTH = 4
"""Levels the engine's answer wraps a value in (``{"result": [{"expressions": [{"value": ...``)."""
_LOCATION = re.compile(r"^-->\s*(.+?):(\d+):(\d+)\s*$", re.MULTILINE)
_COMPILE_CLASS = (
    "is unsafe",
    "could not find function",
    "recursion detected",
    "unexpected keyword",
    "undefined variable",
    "not a valid rule path",
)
"""Messages that mean the modules cannot work on any input (reported when they load)."""


def _quiet_backtraces() -> None:
    # The library captures a stack backtrace for every error when RUST_BACKTRACE is set; that is
    # slow and the backtrace is of no use to a policy author. Its own variable takes precedence.
    os.environ.setdefault("RUST_LIB_BACKTRACE", "0")


class _QuietStderr:
    """Points file descriptor 2 at /dev/null while the engine runs: the library writes diagnostics
    there (``could not schedule all statements``) that are not slsalint's one-line messages."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._null: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        self._depth += 1
        if self._depth > 1:
            return
        try:
            sys.stderr.flush()
            if self._null is None:
                self._null = os.open(os.devnull, os.O_WRONLY)
            self._saved = os.dup(2)
            os.dup2(self._null, 2)
        except OSError:
            self._saved = None

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth or self._saved is None:
            return
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None

    def close(self) -> None:
        if self._null is not None:
            os.close(self._null)
            self._null = None


def engine_message(text: str) -> tuple[Location | None, str]:
    """(location, one line) from an error the engine raised."""
    text = text.split("Stack backtrace:", 1)[0]
    location = None
    match = _LOCATION.search(text)
    if match:
        location = Location(match.group(1), int(match.group(2)), int(match.group(3)))
    message = ""
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("error:"):
            message = line[len("error:") :].strip()
            cause = [ln for ln in lines[index + 1 :] if ln and not ln.startswith(("Caused by", "-->", "|"))]
            if "Caused by:" in text and cause:
                message = f"{message}: {cause[0]}"
            break
    if not message:
        plain = [line for line in lines if line]
        message = plain[0] if plain else "the Rego engine reported an error without a message"
    return location, message[:500]


def compile_class(message: str) -> bool:
    """Whether an evaluation error means the module can never work (not a property of the input)."""
    return any(marker in message for marker in _COMPILE_CLASS)


def _no_runtime() -> dict[str, Any]:
    return {}


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(PACKAGE)
    except PackageNotFoundError:
        return "unknown"


class RegorusEngine:
    """:class:`slsalint.rego.protocol.RegoEngine` backed by regorus in this process."""

    def __init__(self, *, watchdog: Watchdog | None = None, where: str = "in-process") -> None:
        self.description = f"regorus {version()} ({PACKAGE}, {where})"
        self._watchdog = watchdog
        self._pristine: Any = None
        self._live: Any = None
        self._labels: dict[str, str] = {}
        self._builtins: frozenset[str] = frozenset()
        self._quiet = _QuietStderr()

    def _guard(self, label: str, calls: int = 1) -> Any:
        import contextlib

        if self._watchdog is None:
            return contextlib.nullcontext()
        return self._watchdog.guard(label, calls=calls)

    def load(
        self,
        modules: Sequence[EngineModule],
        labels: Mapping[str, str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        with self._quiet:
            self._load(modules, labels, progress)

    def _load(
        self,
        modules: Sequence[EngineModule],
        labels: Mapping[str, str] | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        regorus = self.prepare()
        self._labels = dict(labels or {})
        engine = regorus.Engine()
        engine.set_gather_prints(True)
        self._builtins = self._list_builtins(regorus) - DENIED_BUILTINS
        engine.add_extension("opa.runtime", 0, _no_runtime)
        for index, module in enumerate(modules):
            with self._guard(f"compiling the Rego module {module.name}"):
                try:
                    engine.add_policy(module.name, module.source)
                except (RuntimeError, ValueError) as exc:
                    location, message = engine_message(str(exc))
                    raise RegoLoadError(message, location or Location(module.name)) from None
            if progress is not None:
                progress(index)
        self._pristine = engine
        self._live = engine.clone()

    @staticmethod
    def prepare() -> Any:
        """Import the engine library (EngineFailure when it is not installed)."""
        _quiet_backtraces()
        try:
            import regorus
        except ImportError as exc:
            raise EngineFailure(f"the Rego engine is not installed ({PACKAGE}): {exc}") from None
        return regorus

    @staticmethod
    def _list_builtins(regorus: Any) -> frozenset[str]:
        scratch = regorus.Engine()
        scratch.add_policy("builtins.rego", "package slsalint_builtins\nnames := opa.runtime().builtins\n")
        names = jsonio.loads(scratch.eval_rule_as_json("data.slsalint_builtins.names"))
        return frozenset(n for n in names if isinstance(n, str) and not n.startswith("__")) | {"print"}

    def builtins(self) -> frozenset[str]:
        return self._builtins

    def close(self) -> None:
        self._pristine = self._live = None
        self._quiet.close()

    def evaluate(self, document: str | None, queries: Sequence[str]) -> list[Outcome]:
        with self._quiet:
            return self._evaluate(document, queries)

    def _evaluate(self, document: str | None, queries: Sequence[str]) -> list[Outcome]:
        if self._pristine is None:
            return [Outcome(error="no modules loaded") for _ in queries]
        if document is None:
            engine = self._pristine.clone()
        else:
            engine = self._live
            try:
                with self._guard("reading the Rego input document"):
                    engine.set_input_json(document)
            except (RuntimeError, ValueError) as exc:
                _, message = engine_message(str(exc))
                reason = f"the Rego engine rejected the input document: {message}"
                return [Outcome(error=reason) for _ in queries]
        out = self._together(engine, queries) if len(queries) > 1 else None
        if out is None:
            out = [self._query(engine, query) for query in queries]
        engine.take_prints()
        return out

    def _together(self, engine: Any, queries: Sequence[str]) -> list[Outcome] | None:
        """All queries as one (one call, one answer), or None when any of them fails or is
        undefined: then each is evaluated on its own, so the failure is attributed to its rule."""
        names = [self._labels.get(q, q) for q in queries]
        label = "one of " + "; ".join(names) if len(names) > 1 else names[0]
        if len(label) > 400:
            label = label[:400] + " ..."
        try:
            with self._guard(label, calls=len(queries)):
                text = engine.eval_query_as_json("[" + ", ".join(queries) + "]")
        except (RuntimeError, ValueError):
            return None
        outcome = decode_answer(text)
        if outcome.error is not None or not outcome.defined or not isinstance(outcome.value, list):
            return None
        if len(outcome.value) != len(queries):
            return None
        return [Outcome(value=value, defined=True) for value in outcome.value]

    def _query(self, engine: Any, query: str) -> Outcome:
        try:
            with self._guard(self._labels.get(query, f"the Rego query {query}")):
                text = engine.eval_query_as_json(query)
        except (RuntimeError, ValueError) as exc:
            message = self._error_text(str(exc))
            return Outcome(error=message, static=compile_class(message))
        return decode_answer(text)

    @staticmethod
    def _error_text(raw: str) -> str:
        location, message = engine_message(raw)
        if location is None:
            return message
        return f"{location.module}:{location.line}:{location.column}: {message}"


def decode_answer(text: object) -> Outcome:
    """The Outcome of one answer of ``eval_query_as_json``: bounded in size and depth."""
    if not isinstance(text, str):
        return Outcome(error="the Rego engine returned no answer")
    if len(text) > MAX_RESULT_CHARS:
        return Outcome(error=f"the result is larger than {MAX_RESULT_CHARS // (1024 * 1024)} MiB")
    try:
        answer = jsonio.loads(text, max_depth=RESULT_DEPTH + _WRAPPER_DEPTH)
    except jsonio.JSONError as exc:
        message = str(exc)
        if "nest" in message or "depth" in message:
            return Outcome(error=f"the result nests deeper than {RESULT_DEPTH} levels")
        return Outcome(error=f"the Rego engine returned an answer that is not valid JSON: {message}")
    results = answer.get("result", []) if isinstance(answer, dict) else None
    if not isinstance(results, list):
        return Outcome(error=f"unexpected answer from the Rego engine: {text[:120]!r}")
    if not results:
        return Outcome()
    expressions = results[0].get("expressions") if isinstance(results[0], dict) else None
    if not isinstance(expressions, list) or not expressions or not isinstance(expressions[0], dict):
        return Outcome(error=f"unexpected answer from the Rego engine: {text[:120]!r}")
    return Outcome(value=expressions[0].get("value"), defined=True)
