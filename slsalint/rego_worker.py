"""The Rego evaluation worker: a child process that owns the rego-cpp interpreter (regopy).

regopy 1.5.2 can take its host process down (segfaults when reading the output of a failed query,
``std::out_of_range`` aborts when reading an unbound variable, aborts while building a bundle from
some modules), so slsalint never loads it in its own process. :class:`slsalint.rego.RegopyWorker`
starts this module once per run (``python -m slsalint.rego_worker``) and talks to it over a small
JSON-lines protocol: one request per line on stdin, one or more responses per line on the original
stdout. The engine itself prints diagnostics on file descriptor 1, so that descriptor is redirected
to a capture file before the engine is loaded; the protocol uses a private duplicate of it.

How the engine is used, to stay clear of its known defects:

- only the low-level C API is called: ``regoQuery`` / ``regoBundleQueryEntrypoint``, then
  ``regoOutputOk``, then ``regoOutputJSON`` *only when the output is ok*, then ``regoOutputFree``;
  the output handle is held until it has been read and freed explicitly (no Python ``Output`` whose
  collection time is up to the garbage collector);
- bindings are never read: every query is a whole expression (``data.pkg.rule``), and its JSON is
  returned verbatim for the parent to validate (some string built-ins produce invalid JSON);
- when a query is not ok, only the interpreter's error string is read.

Requests (``op``): ``hello`` is sent unprompted at start-up; ``load`` (modules, rules, bundle),
``eval`` (input documents; streams one line per document and rule, then ``done``), ``test``
(one fresh interpreter per test; streams one line per test, then ``done``) and ``exit``.

Test-only fault injection (used by slsalint's own test-suite to prove that engine failures become
SL904 findings): ``SLSALINT_REGO_WORKER_FAULT=KIND[:RULE_ID]`` with KIND ``crash`` (SIGSEGV),
``abort``, ``hang`` or ``garbage`` (a non-JSON line on the protocol), applied when evaluating the
named rule (any rule without ``:RULE_ID``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import tempfile
import time
from typing import IO, Any

FAULT_ENV = "SLSALINT_REGO_WORKER_FAULT"
_ERROR_NODE = "(error"
_UNLISTED_BUILTINS = frozenset({"print"})


class _Engine:
    """The few regopy entry points the worker uses, bound once."""

    def __init__(self) -> None:
        import regopy
        from regopy import rego_shared

        self.regopy = regopy
        self.shared = rego_shared
        self.version = str(regopy.build_info())
        # The C API parses JSON input faster than regopy's set_input_term (a Rego term parser);
        # regopy 1.5.2 does not wrap it, so bind it here when the library has it.
        self._set_input_json = getattr(rego_shared.rego, "regoSetInputJSON", None)
        if self._set_input_json is not None:
            self._set_input_json.restype = ctypes.c_uint32
            self._set_input_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p]

    def interpreter(self) -> Any:
        return self.regopy.Interpreter()

    def set_input(self, interp: Any, document: str) -> None:
        """Set the input document (JSON text); raises RuntimeError when the engine rejects it."""
        if self._set_input_json is None:
            interp.set_input_term(document)
            return
        if self._set_input_json(interp._impl, document.encode("utf-8")) != 0:
            raise RuntimeError(self.shared.rego_get_error(interp._impl) or "invalid input document")

    def query(self, interp: Any, text: str) -> tuple[bool, str]:
        """Run a query; (True, JSON text) when ok, else (False, the interpreter's error)."""
        return self._read(interp, self.shared.rego_query(interp._impl, text))

    def query_bundle(self, interp: Any, bundle: Any, entrypoint: str) -> tuple[bool, str]:
        impl = self.shared.rego_bundle_query_entrypoint(interp._impl, bundle._impl, entrypoint)
        return self._read(interp, impl)

    def _read(self, interp: Any, impl: Any) -> tuple[bool, str]:
        shared = self.shared
        try:
            if not shared.rego_output_ok(impl):
                # Never read the output of a failed query (that is what segfaults).
                return False, shared.rego_get_error(interp._impl) or ""
            return True, shared.rego_output_string(impl)
        finally:
            shared.rego_free_output(impl)


class Worker:
    def __init__(self, out: IO[bytes], capture: IO[bytes]) -> None:
        self.out = out
        self.capture = capture
        self.engine: _Engine | None = None
        self.interp: Any = None
        self.bundle: Any = None
        self.rules: list[dict[str, Any]] = []
        fault = os.environ.get(FAULT_ENV, "")
        kind, _, rule = fault.partition(":")
        self.fault_kind = kind.strip().lower()
        self.fault_rule = rule.strip()

    # -- protocol ---------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
        self.out.flush()

    def diagnostics(self) -> str:
        """What the engine printed on stdout since the last call (syntax error reports)."""
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)
        self.capture.flush()
        self.capture.seek(0)
        text = self.capture.read().decode("utf-8", "replace")
        self.capture.seek(0)
        self.capture.truncate()
        return text.strip()[-4000:]

    def serve(self, stream: IO[bytes]) -> int:
        try:
            self.engine = _Engine()
        except Exception as exc:  # the engine cannot be loaded at all
            self.send({"op": "hello", "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            return 1
        self.send({"op": "hello", "ok": True, "engine": "regopy", "version": self.engine.version})
        for raw in stream:
            if not raw.strip():
                continue
            request = json.loads(raw)
            op = request.get("op")
            if op == "exit":
                return 0
            handler = {"load": self.load, "eval": self.evaluate, "test": self.test}.get(str(op))
            if handler is None:
                self.send({"ok": False, "error": f"unknown op {op!r}"})
                continue
            handler(request)
        return 0

    # -- operations -------------------------------------------------------------------------

    def load(self, request: dict[str, Any]) -> None:
        assert self.engine is not None
        engine = self.engine
        self.diagnostics()
        self.interp = engine.interpreter()
        self.bundle = None
        self.rules = list(request.get("rules") or [])
        for module in request.get("modules") or []:
            try:
                self.interp.add_module(module["name"], module["source"])
            except Exception as exc:
                self.send(
                    {
                        "ok": False,
                        "kind": "syntax",
                        "module": module["name"],
                        "error": str(exc),
                        "diagnostics": self.diagnostics(),
                    }
                )
                return
        # Calls the modules make to functions they do not define must be built-ins: this engine
        # evaluates a call to a built-in it lacks (net.cidr_contains, http.send, ...) as undefined,
        # which would make a rule silently never fire. (print works although it is not listed.)
        for name in request.get("functions") or []:
            if name not in _UNLISTED_BUILTINS and not self.interp.is_builtin(name):
                self.send({"ok": False, "kind": "builtin", "function": name})
                return
        # A probe in query mode finds compile errors (which make every query fail) before the
        # bundle is built: building a bundle from such modules aborts the process.
        engine.set_input(self.interp, "{}")
        for index, rule in enumerate(self.rules):
            ok, text = engine.query(self.interp, rule["query"])
            if not ok or text.startswith(_ERROR_NODE):
                self.send(
                    {
                        "ok": False,
                        "kind": "compile",
                        "rule": index,
                        "error": text,
                        "diagnostics": self.diagnostics(),
                    }
                )
                return
        mode = "query"
        if request.get("bundle") and self.rules:
            try:
                self.bundle = self.interp.build(None, [r["entrypoint"] for r in self.rules])
                if self.bundle.ok():
                    mode = "bundle"
                else:
                    self.bundle = None
            except Exception:
                self.bundle = None
        self.diagnostics()
        self.send({"ok": True, "mode": mode})

    def evaluate(self, request: dict[str, Any]) -> None:
        assert self.engine is not None
        engine = self.engine
        skip = int(request.get("skip") or 0)
        skip_rules = {int(r) for r in request.get("skip_rules") or []}
        count = len(self.rules)
        position = 0
        for i, document in enumerate(request.get("inputs") or []):
            if position + count <= skip:
                position += count
                continue
            input_error: str | None = None
            if self.interp is None:
                input_error = "no modules loaded"
            else:
                try:
                    engine.set_input(self.interp, document)
                except Exception as exc:
                    input_error = f"the engine rejected the input document: {exc}"
            for r, rule in enumerate(self.rules):
                position += 1
                if position <= skip:
                    continue
                if input_error is not None or r in skip_rules:
                    self.send({"i": i, "r": r, "ok": False, "error": input_error or "skipped"})
                    continue
                self._fault(rule)
                try:
                    if self.bundle is not None:
                        ok, text = engine.query_bundle(self.interp, self.bundle, rule["entrypoint"])
                    else:
                        ok, text = engine.query(self.interp, rule["query"])
                except Exception as exc:  # e.g. output bytes that are not UTF-8
                    ok, text = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    self.send({"i": i, "r": r, "ok": True, "out": text})
                else:
                    self.send({"i": i, "r": r, "ok": False, "error": text or "evaluation failed"})
        self.send({"done": True})

    def test(self, request: dict[str, Any]) -> None:
        assert self.engine is not None
        engine = self.engine
        skip = int(request.get("skip") or 0)
        modules = list(request.get("modules") or [])
        for t, case in enumerate(request.get("tests") or []):
            if t < skip:
                continue
            self.diagnostics()
            started = time.perf_counter()
            status, detail = "error", ""
            interp = engine.interpreter()
            try:
                for module in [*modules, case.get("module")]:
                    if module:
                        interp.add_module(module["name"], module["source"])
                engine.set_input(interp, case["input"] if case.get("input") is not None else "{}")
                ok, text = engine.query(interp, case["query"])
                if not ok:
                    detail = text or "the engine could not evaluate the test"
                elif text == "undefined":
                    status, detail = "fail", "undefined"
                else:
                    value = json.loads(text)["expressions"][0]
                    if value is True:
                        status = "pass"
                    else:
                        status, detail = "fail", json.dumps(value)[:200]
            except Exception as exc:
                detail = f"{type(exc).__name__}: {exc}"
            finally:
                del interp
            if status == "error":
                printed = self.diagnostics()
                if printed:
                    detail = f"{detail}\n{printed}" if detail else printed
            self.send({"t": t, "status": status, "detail": detail, "seconds": time.perf_counter() - started})
        self.send({"done": True})

    def _fault(self, rule: dict[str, Any]) -> None:
        """Test-only failure injection (see the module docstring)."""
        if not self.fault_kind or (self.fault_rule and self.fault_rule != rule.get("id")):
            return
        if self.fault_kind == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.fault_kind == "abort":
            os.abort()
        elif self.fault_kind == "hang":
            time.sleep(3600)
        elif self.fault_kind == "garbage":
            self.out.write(b"\x00garbage \xff not a protocol line\n")
            self.out.flush()


def main() -> int:
    # The protocol gets a private copy of stdout; fd 1 (where the engine prints) goes to a file.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    capture = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    os.dup2(capture.fileno(), 1)
    sys.stdout = sys.stderr
    worker = Worker(out, capture)
    try:
        return worker.serve(sys.stdin.buffer)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
