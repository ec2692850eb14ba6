"""Real OPA as an oracle: this script runs in the test-only ``.venv-opa`` (``make test`` creates it
with the ``opa-golib-python-bindings`` wheel: OPA's Go library behind ctypes) and answers queries.

It imports nothing from slsalint. One request per line on stdin, one answer per line on stdout:

    {"modules": [[NAME, SOURCE], ...], "queries": [{"query": "data.pkg.rule", "input": ...}, ...]}
    -> {"results": [{"defined": bool, "value": ..., "error": str | null}, ...]}
    -> {"load_error": "..."} when OPA rejects the modules as a whole

A query without ``input`` is evaluated with no input document (as ``opa test`` evaluates tests).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from opa_bindings import OpaEngine, OpaError, OpaUndefinedError


def answer(request: dict[str, Any]) -> dict[str, Any]:
    engine = OpaEngine()
    try:
        try:
            for name, source in request["modules"]:
                engine.add_policy(name, source)
        except OpaError as exc:
            return {"load_error": f"{exc.code}: {exc.message}"}
        results = []
        for case in request["queries"]:
            path = case["query"].removeprefix("data.")
            try:
                value = engine.eval_document(path, case.get("input"))
                results.append({"defined": True, "value": value, "error": None})
            except OpaUndefinedError:
                results.append({"defined": False, "value": None, "error": None})
            except OpaError as exc:
                results.append({"defined": False, "value": None, "error": f"{exc.code}: {exc.message}"})
        return {"results": results}
    finally:
        engine.close()


def main() -> int:
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
