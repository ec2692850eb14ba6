"""The optional worker process (``--rego-isolation worker``): the same engine in a child process.

In the worker, a rule that runs past ``--rego-timeout`` (or a module that compiles past it) is
stopped by killing the process: the rule gets an SL904 finding, the worker is restarted and the run
goes on. A rule that stopped the worker once is not evaluated again in that run. The worker dies
with slsalint: on Linux it asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), it
exits when its request pipe closes, and it ignores Ctrl-C (slsalint itself stops it).

Protocol: JSON lines. Requests (stdin): ``load`` (modules), ``eval`` (input, queries), ``exit``.
Answers (stdout): ``load`` streams ``{"compiled": N}`` per module, then ``{"ok": true, "builtins":
[...]}`` or ``{"ok": false, "error": ..., "location": [module, line, column]}``; ``eval`` streams
``{"i": N, "defined": bool, "value": ..., "error": ...}`` per query, then ``{"done": true}``.

Test-only fault injection: ``SLSALINT_REGO_WORKER_FAULT=KIND[:TEXT]`` (KIND ``crash``, ``hang`` or
``garbage``) misbehaves while evaluating a query whose label contains TEXT (any without it).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from slsalint import jsonio
from slsalint.rego.protocol import (
    DEFAULT_TIMEOUT,
    EngineFailure,
    EngineModule,
    Location,
    Outcome,
    RegoLoadError,
)

FAULT_ENV = "SLSALINT_REGO_WORKER_FAULT"
MAX_LINE = 64 * 1024 * 1024
STARTUP_TIMEOUT = 60.0
"""Seconds the worker may take to start (import the engine) before it counts as failed."""
_PR_SET_PDEATHSIG = 1


class _Died(Exception):
    pass


class _Timeout(Exception):
    pass


class _Garbage(Exception):
    pass


def worker_command() -> list[str]:
    return [sys.executable, "-m", "slsalint.rego.worker", str(os.getpid())]


class WorkerEngine:
    """:class:`slsalint.rego.protocol.RegoEngine` in a child process, ``timeout`` per call."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, command: Sequence[str] | None = None) -> None:
        from slsalint.rego.regorus_engine import PACKAGE, version

        self.description = f"regorus {version()} ({PACKAGE}, worker process)"
        self.timeout = timeout
        self.command = list(command) if command else worker_command()
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()
        self._modules: list[EngineModule] = []
        self._labels: dict[str, str] = {}
        self._builtins: frozenset[str] = frozenset()
        self._broken: dict[str, str] = {}

    # -- process ------------------------------------------------------------------------------

    def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
        root = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._buffer = bytearray()
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            self._proc = None
            raise EngineFailure(f"cannot start the Rego worker: {exc}") from None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.stdin.write(b'{"op":"exit"}\n')
                proc.stdin.flush()
                proc.wait(timeout=2)
        self._kill()

    def _death(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=2)
        if code is not None and code < 0:
            try:
                what = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                what = f"killed by signal {-code}"
        elif code is not None:
            what = f"exited with status {code}"
        else:
            what = "closed its output"
        return f"the Rego worker crashed ({what})"

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise _Died("the Rego worker is not running")
        data = memoryview(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
        fd = proc.stdin.fileno()
        os.set_blocking(fd, False)
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout("the Rego worker stopped reading requests")
            _, ready, _ = select.select([], [fd], [], remaining)
            if not ready:
                continue
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                continue
            except OSError:
                raise _Died(self._death()) from None
            data = data[written:]

    def _recv(self, deadline: float) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise _Died("the Rego worker is not running")
        fd = proc.stdout.fileno()
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                try:
                    message = jsonio.loads(line, max_depth=jsonio.MAX_DEPTH + 2)
                except jsonio.JSONError as exc:
                    raise _Garbage(
                        f"the Rego worker wrote something that is not the protocol ({exc})"
                    ) from None
                if not isinstance(message, dict):
                    raise _Garbage("the Rego worker wrote something that is not the protocol")
                return message
            if len(self._buffer) > MAX_LINE:
                raise _Garbage("the Rego worker wrote an oversized answer")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout("timed out")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise _Timeout("timed out")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise _Died(self._death())
            self._buffer.extend(chunk)

    # -- RegoEngine ---------------------------------------------------------------------------

    def load(self, modules: Sequence[EngineModule], labels: Mapping[str, str] | None = None) -> None:
        self._modules = list(modules)
        self._labels = dict(labels or {})
        self._broken = {}
        self._reload()

    def _reload(self) -> None:
        self._kill()
        self._start()
        try:
            hello = self._recv(time.monotonic() + STARTUP_TIMEOUT)
        except (_Died, _Timeout, _Garbage) as exc:
            self._kill()
            raise EngineFailure(f"the Rego worker did not start: {exc}") from None
        if not hello.get("ready"):
            self._kill()
            raise EngineFailure(f"the Rego engine is unavailable: {hello.get('error')}")
        request = {
            "op": "load",
            "modules": [{"name": m.name, "source": m.source} for m in self._modules],
            "labels": self._labels,
        }
        compiled = 0
        try:
            self._send(request, time.monotonic() + self.timeout)
            while True:
                answer = self._recv(time.monotonic() + self.timeout)
                if "compiled" in answer:
                    compiled += 1
                    continue
                break
        except _Timeout:
            self._kill()
            name = self._modules[min(compiled, len(self._modules) - 1)].name if self._modules else "modules"
            raise EngineFailure(
                f"compiling the Rego module {name} did not finish within {self.timeout:g}s"
            ) from None
        except (_Died, _Garbage) as exc:
            self._kill()
            raise EngineFailure(f"while compiling the Rego modules: {exc}") from None
        if not answer.get("ok"):
            where = answer.get("location")
            location = None
            if isinstance(where, list) and len(where) == 3:
                location = Location(str(where[0]), int(where[1] or 0), int(where[2] or 0))
            error = str(answer.get("error") or "the Rego engine rejected the modules")
            if answer.get("kind") == "engine":
                self._kill()
                raise EngineFailure(error)
            raise RegoLoadError(error, location)
        names = answer.get("builtins")
        self._builtins = (
            frozenset(n for n in names if isinstance(n, str)) if isinstance(names, list) else frozenset()
        )

    def builtins(self) -> frozenset[str]:
        return self._builtins

    def evaluate(self, document: str | None, queries: Sequence[str]) -> list[Outcome]:
        out: list[Outcome | None] = [None] * len(queries)
        for index, query in enumerate(queries):
            if query in self._broken:
                out[index] = Outcome(error=self._broken[query])
        while any(o is None for o in out):
            pending = [i for i, o in enumerate(out) if o is None]
            if self._proc is None or self._proc.poll() is not None:
                try:
                    self.restarts += 1
                    self._reload()
                except (EngineFailure, RegoLoadError) as exc:
                    for i in pending:
                        out[i] = Outcome(error=f"the Rego worker could not be restarted: {exc}")
                    break
            request = {"op": "eval", "input": document, "queries": [queries[i] for i in pending]}
            done = 0
            try:
                self._send(request, time.monotonic() + self.timeout)
                while done < len(pending):
                    message = self._recv(time.monotonic() + self.timeout)
                    if message.get("i") != done:
                        raise _Garbage("the Rego worker answered out of order")
                    out[pending[done]] = _outcome(message)
                    done += 1
                finished = self._recv(time.monotonic() + self.timeout)
                if not finished.get("done"):
                    raise _Garbage("the Rego worker did not finish the batch")
            except (_Died, _Timeout, _Garbage) as exc:
                self._kill()
                if done >= len(pending):
                    break
                query = queries[pending[done]]
                if isinstance(exc, _Timeout):
                    reason = f"evaluation did not finish within {self.timeout:g}s (the worker was stopped)"
                else:
                    reason = str(exc)
                out[pending[done]] = Outcome(error=reason)
                self._broken[query] = f"not evaluated again: {reason} earlier in this run"
        return [o if o is not None else Outcome(error="not evaluated") for o in out]


def _outcome(message: dict[str, Any]) -> Outcome:
    error = message.get("error")
    if error is not None:
        return Outcome(error=str(error)[:500], static=bool(message.get("static")))
    return Outcome(value=message.get("value"), defined=bool(message.get("defined")))


# ---------------------------------------------------------------------------------------------
# The worker side


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux), and exit now if the
    parent is already gone."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent and os.getppid() != parent:
        sys.exit(0)


class _Server:
    def __init__(self, out: IO[bytes]) -> None:
        from slsalint.rego.regorus_engine import RegorusEngine

        self.out = out
        self.labels: dict[str, str] = {}
        self.engine = RegorusEngine(where="worker process")
        kind, _, text = os.environ.get(FAULT_ENV, "").partition(":")
        self.fault, self.fault_text = kind.strip().lower(), text.strip()

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
        self.out.flush()

    def load(self, request: dict[str, Any]) -> None:
        modules = [EngineModule(str(m["name"]), str(m["source"])) for m in request.get("modules") or []]
        labels = request.get("labels")
        self.labels = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
        try:
            self.engine.load(modules, progress=lambda count: self.send({"compiled": count}))
        except RegoLoadError as exc:
            where = exc.location
            location = [where.module, where.line, where.column] if where else None
            self.send({"ok": False, "error": exc.message, "location": location})
            return
        except EngineFailure as exc:
            self.send({"ok": False, "kind": "engine", "error": str(exc)})
            return
        self.send({"ok": True, "builtins": sorted(self.engine.builtins())})

    def evaluate(self, request: dict[str, Any]) -> None:
        queries = [str(q) for q in request.get("queries") or []]
        document = request.get("input")
        for index, query in enumerate(queries):
            self._fault(query)
            (outcome,) = self.engine.evaluate(document if isinstance(document, str) else None, [query])
            if outcome.error is not None:
                self.send({"i": index, "error": outcome.error, "static": outcome.static})
            else:
                self.send({"i": index, "defined": outcome.defined, "value": outcome.value})
        self.send({"done": True})

    def _fault(self, query: str) -> None:
        label = self.labels.get(query, query)
        if not self.fault or (self.fault_text and self.fault_text not in label):
            return
        if self.fault == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.fault == "hang":
            time.sleep(3600)
        elif self.fault == "garbage":
            self.out.write(b"\x00garbage \xff not a protocol line\n")
            self.out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parent = int(args[0]) if args and args[0].isdigit() else 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = sys.stderr
    server = _Server(out)
    try:
        server.engine.prepare()
    except EngineFailure as exc:
        server.send({"ready": False, "error": str(exc)})
        return 1
    server.send({"ready": True})
    try:
        for raw in sys.stdin.buffer:
            if not raw.strip():
                continue
            request = json.loads(raw)
            op = request.get("op")
            if op == "exit":
                return 0
            if op == "load":
                server.load(request)
            elif op == "eval":
                server.evaluate(request)
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
