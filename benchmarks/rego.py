"""Rego vs built-in: the same rule, written in Rego and as a Python check, over N statements.

The rule is PLT001 from ``rules/platform-team/base_images.rego`` (every ``pkg:docker/`` material
comes from an allowed repository prefix) and a Python check that implements the same logic. N
BuildKit SLSA v0.2 mode=max statements (default 1,000; every third one has a base image from an
unlisted registry) are read and bound to targets once; then, on one core, the script times

  (a) the built-in check through ``run_checks`` (one target at a time);
  (b) the Rego rule through the regopy worker as ``slsalint check`` runs it: input documents built
      and evaluated in one batch per target;
  (c) the Rego rule with all N input documents in one batch (the engine's throughput).

Both must report the same findings. Each measurement runs three times; the best run counts. The
last line is JSON:
{"benchmark": "rego", "statements": N, "builtin_per_second": ..., "rego_per_second": ...,
"rego_batch_per_second": ..., "builtin_to_rego_ratio": ..., "engine_mode": ...}

    python benchmarks/rego.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint.checks import Check, CheckContext  # noqa: E402
from slsalint.engine import build_target, run_checks  # noqa: E402
from slsalint.model import Finding, Level, Target  # noqa: E402
from slsalint.policy import PlannedRule  # noqa: E402
from slsalint.rego import RegoRuntime, RegoSource, load_rules, open_engine  # noqa: E402
from slsalint.rego_input import input_document  # noqa: E402
from slsalint.sources.files import collect_files  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402

REGO_RULE = ROOT / "rules" / "platform-team" / "base_images.rego"
ALLOWED_PREFIXES = ("docker.io/library/", "gcr.io/distroless/", "cgr.dev/chainguard/")


def _purl_path(uri: str) -> str:
    rest = uri.removeprefix("pkg:docker/")
    return rest.split("?", 1)[0].split("#", 1)[0].split("@", 1)[0]


def _is_registry(segment: str) -> bool:
    return "." in segment or ":" in segment or segment == "localhost"


def image_repository(uri: str) -> str:
    path = _purl_path(uri)
    first = path.split("/", 1)[0]
    if _is_registry(first):
        return path
    return f"docker.io/{path}" if "/" in path else f"docker.io/library/{path}"


class BaseImageRegistry(Check):
    """The Python twin of rules/platform-team/base_images.rego (benchmark only)."""

    id: ClassVar[str] = "PLT001"
    name: ClassVar[str] = "base-image-registry"
    level: ClassVar[Level] = Level.ERROR
    summary: ClassVar[str] = "Base image registry"
    remediation: ClassVar[str] = "build FROM an image under an allowed prefix"

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        for platform, attestation, view in ctx.provenance():
            for material in view.materials:
                if not material.uri.startswith("pkg:docker/"):
                    continue
                repository = image_repository(material.uri)
                if not repository.startswith(ALLOWED_PREFIXES):
                    yield ctx.finding(
                        f"base image {repository} is not from an allowed registry",
                        platform=platform,
                        attestation=attestation,
                        pointer=material.pointer,
                        expected=list(ALLOWED_PREFIXES),
                        actual=repository,
                    )


def generate(directory: Path, count: int) -> list[Target]:
    targets = []
    for n in range(count):
        subject = f"sha256:{bk.fake_hex('rego-bench', str(n))}"
        materials = None
        if n % 3 == 0:
            hexpart = bk.fake_hex("bench-base", str(n))
            materials = [
                {
                    "uri": f"pkg:docker/mirror{n % 5}.example.com/golang@1.22?digest=sha256:{hexpart}",
                    "digest": {"sha256": hexpart},
                },
                *bk.buildkit_materials(),
            ]
        statement = bk.buildkit_v02_statement(
            subject, commit=bk.fake_hex("commit", str(n))[:40], materials=materials
        )
        path = directory / f"{n:05d}.intoto.json"
        path.write_bytes(bk.statement_bytes(statement))
        targets.append(build_target(collect_files([path], subject=subject)))
    return targets


def best_of(repeat: int, func: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="slsalint-rego-bench-") as tmp:
        targets = generate(Path(tmp), args.count)
        statements = sum(len(p.attestations) for t in targets for p in t.platforms)
        planned = [PlannedRule(BaseImageRegistry, Level.ERROR, {})]
        ruleset = load_rules([RegoSource(REGO_RULE)])
        engine, broken = open_engine(ruleset.modules, ruleset.rules)
        if broken is not None:
            print(f"the Rego engine is unavailable: {broken}", file=sys.stderr)
            return 1
        runtime = RegoRuntime(ruleset, ruleset.rules, engine, None)
        try:

            def builtin() -> int:
                return sum(len(run_checks(t, planned)) for t in targets)

            def rego() -> int:
                found = [f for t in targets for f in runtime.findings(t)]
                assert all(f.rule_id == "PLT001" for f in found), [f.message for f in found[:3]]
                return len(found)

            def rego_batch() -> int:
                documents = [
                    json.dumps(input_document(t, p, a), separators=(",", ":"))
                    for t in targets
                    for p in t.platforms
                    for a in p.attestations
                ]
                rows = engine.evaluate(documents)
                assert all(o.error is None for row in rows for o in row)
                return sum(len(o.values or []) for row in rows for o in row)

            builtin_time, builtin_found = best_of(args.repeat, builtin)
            rego_time, rego_found = best_of(args.repeat, rego)
            batch_time, batch_found = best_of(args.repeat, rego_batch)
            mode = engine.mode
        finally:
            runtime.close()
    if not builtin_found == rego_found == batch_found:
        print(
            f"different results: built-in {builtin_found}, Rego {rego_found}/{batch_found}", file=sys.stderr
        )
        return 1
    result = {
        "benchmark": "rego",
        "statements": statements,
        "findings": builtin_found,
        "builtin_per_second": round(statements / builtin_time, 1),
        "rego_per_second": round(statements / rego_time, 1),
        "rego_batch_per_second": round(statements / batch_time, 1),
        "builtin_to_rego_ratio": round(rego_time / builtin_time, 1),
        "engine_mode": mode,
    }
    print(
        f"{statements} statements, {builtin_found} findings each way\n"
        f"  built-in check : {result['builtin_per_second']:>10,.1f} statements/s\n"
        f"  Rego, per target: {result['rego_per_second']:>9,.1f} statements/s\n"
        f"  Rego, one batch : {result['rego_batch_per_second']:>9,.1f} statements/s  (engine mode: {mode})"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
