"""Lint throughput: BuildKit SLSA v0.2 mode=max statements per second through the full pipeline.

Generates N statements of about SIZE bytes each (default 10,000 x ~10 KB) as files in a temporary
directory, then, pinned to one core, times

  (a) the full pipeline per file: read (collect_files) -> decode -> schema -> normalize -> bind
      (build_target) -> every rule of the default policy (run_checks);
  (b) ``json.loads`` of the same files (read from disk too), the floor any linter has to pay;
  (c) ``slsalint.jsonio.loads`` of the same files: the strict reader every outside document goes
      through (NaN/Infinity, overflow, depth and integer-length refusals), for reference.

The three alternate, round after round (``--repeat``), so machine noise hits them alike; each one's
best round counts, in CPU time of this process. The last line is JSON with the target: lint within
twice json.loads of the same bytes, measured in the same run.

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

from benchmarks._targets import emit, one_core, peak_rss_mib, target  # noqa: E402
from slsalint import jsonio  # noqa: E402
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


def strict_all(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        total += len(jsonio.loads(path.read_bytes()))
    return total


def alternating(repeat: int, measured: dict[str, Callable[[], int]]) -> dict[str, float]:
    """Best CPU time of each function over ``repeat`` rounds that run them one after another."""
    best = dict.fromkeys(measured, float("inf"))
    for _ in range(repeat):
        for name, func in measured.items():
            gc.collect()
            start = time.process_time()
            func()
            best[name] = min(best[name], time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="number of statements (default 10000)")
    parser.add_argument("--size", type=int, default=10_000, help="approximate bytes per statement")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; each measurement's best counts")
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    one_core()
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
        findings = lint_all(paths[:1], planned)
        best = alternating(
            args.repeat,
            {
                "lint": lambda: lint_all(paths, planned),
                "json.loads": lambda: loads_all(paths),
                "jsonio.loads": lambda: strict_all(paths),
            },
        )
        findings = lint_all(paths, planned)
    count = len(paths)
    ratio = best["lint"] / best["json.loads"]
    for name, seconds in best.items():
        print(f"{name + ':':14s} {seconds:7.3f}s CPU  {count / seconds:10,.0f} statements/s")
    print(f"lint / json.loads: {ratio:.2f}x  ({len(planned)} rules, {findings} findings in total)")
    emit(
        "lint_throughput",
        [
            target(
                "lint_over_json_loads",
                ratio,
                2.0,
                unit="x",
                baseline={"json_loads_seconds": round(best["json.loads"], 4), "statements": count},
                lint_seconds=round(best["lint"], 4),
            )
        ],
        statements=count,
        bytes_per_statement=round(total_bytes / count),
        per_second=round(count / best["lint"], 1),
        json_loads_per_second=round(count / best["json.loads"], 1),
        jsonio_over_json_loads=round(best["jsonio.loads"] / best["json.loads"], 3),
        ratio_to_json_loads=round(ratio, 3),
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
