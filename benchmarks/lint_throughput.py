"""Lint throughput: BuildKit SLSA v0.2 mode=max statements per second through the full pipeline.

Generates N statements of about SIZE bytes each (default 10,000 x ~10 KB) as files in a temporary
directory, then, on one core, times

  (a) the full pipeline per file: read (collect_files) -> decode -> schema -> normalize -> bind
      (build_target) -> every rule of the default policy (run_checks);
  (b) ``json.loads`` of the same files (read from disk too), the floor any linter has to pay.

Each measurement runs three times; the best run counts. The last line is JSON:
{"benchmark": "lint_throughput", "statements": N, "per_second": ..., "json_loads_per_second": ...,
"ratio_to_json_loads": ...}   (ratio = lint time / json.loads time).

    python benchmarks/lint_throughput.py [--count N] [--size BYTES] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint.engine import build_target, run_checks  # noqa: E402
from slsalint.policy import PlannedRule, Policy, plan_rules  # noqa: E402
from slsalint.sources.files import collect_files  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402

BUILDERS = (
    "https://github.com/example/app/actions/runs/{n}",
    "https://gitlab.example.com/platform/app/-/jobs/{n}",
)
PLATFORMS = ("linux%2Famd64", "linux%2Farm64", "linux%2Fs390x")


def generate(directory: Path, count: int, size: int) -> list[Path]:
    """Write ``count`` distinct statements of about ``size`` bytes; return their paths."""
    paths = []
    for n in range(count):
        subject = f"sha256:{bk.fake_hex('bench-subject', str(n))}"
        name = f"pkg:docker/registry.example.com/team/app{n % 7}@v1.{n % 50}.0?platform={PLATFORMS[n % 3]}"
        statement = bk.buildkit_v02_statement(
            subject,
            name=name,
            builder_id=BUILDERS[n % 2].format(n=1000 + n),
            commit=bk.fake_hex("commit", str(n))[:40],
            args={"label:org.opencontainers.image.version": f"v1.{n % 50}.0", "build-arg:GO_VERSION": "1.22"},
            pad_to=size,
        )
        path = directory / f"{n:05d}.intoto.json"
        path.write_bytes(bk.statement_bytes(statement))
        paths.append(path)
    return paths


def lint_all(paths: list[Path], planned: list[PlannedRule]) -> int:
    findings = 0
    for path in paths:
        target = build_target(collect_files([path]))
        findings += len(run_checks(target, planned))
    return findings


def loads_all(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        total += len(json.loads(path.read_bytes()))
    return total


def best_of(repeat: int, func: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="number of statements (default 10000)")
    parser.add_argument("--size", type=int, default=10_000, help="approximate bytes per statement")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")

    planned, _ = plan_rules(Policy())
    with tempfile.TemporaryDirectory(prefix="slsalint-bench-") as tmp:
        start = time.perf_counter()
        paths = generate(Path(tmp), args.count, args.size)
        generated = time.perf_counter() - start
        total_bytes = sum(p.stat().st_size for p in paths)
        print(
            f"generated {len(paths)} statements, {total_bytes / len(paths):.0f} bytes on average, "
            f"in {generated:.1f}s"
        )
        # Warm up imports, schema compilation and caches once, outside the timed runs.
        lint_all(paths[:1], planned)
        lint_time, findings = best_of(args.repeat, lambda: lint_all(paths, planned))
        loads_time, _ = best_of(args.repeat, lambda: loads_all(paths))

    per_second = len(paths) / lint_time
    loads_per_second = len(paths) / loads_time
    ratio = lint_time / loads_time
    print(f"lint (full pipeline, {len(planned)} rules): {lint_time:.3f}s  {per_second:,.0f} statements/s")
    print(f"json.loads:                       {loads_time:.3f}s  {loads_per_second:,.0f} statements/s")
    print(f"lint / json.loads:                {ratio:.2f}x   ({findings} findings in total)")
    print(
        json.dumps(
            {
                "benchmark": "lint_throughput",
                "statements": len(paths),
                "per_second": round(per_second, 1),
                "json_loads_per_second": round(loads_per_second, 1),
                "ratio_to_json_loads": round(ratio, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
