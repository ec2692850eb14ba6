"""Start-up cost: ``slsalint --help`` and ``slsalint check oci:examples/demo-image``, as a user runs
them (a new interpreter each time), on one core, side by side.

Rounds alternate between the two commands so that whatever else the machine does hits both
alike; each command's time is the median of its rounds (wall clock; the CPU time of the process is
printed too). Also printed: peak memory of each command, and the modules that cost most to import
for ``check`` (``python -X importtime``, best of three).

Targets (the final JSON line): ``--help`` within 150 ms; ``check`` of the demo image within twice
``--help`` of the same run.

    python benchmarks/startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._targets import emit, one_core, target  # noqa: E402

HELP = ["--help"]
CHECK = ["check", "oci:examples/demo-image"]


def command(args: list[str]) -> list[str]:
    """The installed console script when there is one (what users run), else ``python -m``."""
    script = Path(sys.executable).with_name("slsalint")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-m", "slsalint", *args]


def run_once(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command(args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def peak_rss(args: list[str]) -> float:
    """Peak resident memory of one run, MiB (a fresh process measured on its own)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command(args)], cwd=ROOT, capture_output=True, text=True
    )
    return int(out.stdout.strip()) / 1024


def import_costs(args: list[str], top: int = 8) -> list[tuple[str, float]]:
    """The top-level imports costing most (ms, cumulative, best of three runs)."""
    best: dict[str, int] = {}
    for _ in range(3):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "slsalint", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stderr
        for line in err.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
            if match and not match.group(2).startswith(" "):
                name = match.group(2).strip()
                best[name] = min(best.get(name, 1 << 60), int(match.group(1)))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])[:top]
    return [(name, micros / 1000) for name, micros in ranked]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    one_core()
    for warm in (HELP, CHECK):  # page cache and .pyc files, not counted
        _, _, code = run_once(warm)
        if code not in (0, 1):
            print(f"slsalint {' '.join(warm)} exited {code}", file=sys.stderr)
            return 1
    walls: dict[str, list[float]] = {"help": [], "check": []}
    cpus: dict[str, list[float]] = {"help": [], "check": []}
    for _ in range(args.rounds):
        for name, argv in (("help", HELP), ("check", CHECK)):
            wall, cpu, _ = run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    help_ms = statistics.median(walls["help"]) * 1000
    check_ms = statistics.median(walls["check"]) * 1000
    help_cpu = statistics.median(cpus["help"]) * 1000
    check_cpu = statistics.median(cpus["check"]) * 1000
    print(f"on one core, median of {args.rounds} alternating rounds:")
    print(f"  slsalint --help                      {help_ms:7.1f} ms wall  {help_cpu:7.1f} ms CPU")
    print(f"  slsalint check oci:examples/demo-image {check_ms:5.1f} ms wall  {check_cpu:7.1f} ms CPU")
    print(f"  check / --help                       {check_ms / help_ms:7.2f}x")
    rss = {name: peak_rss(argv) for name, argv in (("help", HELP), ("check", CHECK))}
    print(f"  peak RSS: --help {rss['help']:.1f} MiB, check {rss['check']:.1f} MiB")
    print("  costliest imports of check (ms, cumulative):")
    for name, ms in import_costs(CHECK):
        print(f"    {ms:7.1f}  {name}")
    emit(
        "startup",
        [
            target("help_ms", help_ms, 150, unit="ms", cpu_ms=round(help_cpu, 1)),
            target(
                "check_demo_over_help",
                check_ms / help_ms,
                2.0,
                unit="x",
                baseline={"help_ms": round(help_ms, 1)},
                check_ms=round(check_ms, 1),
                check_cpu_ms=round(check_cpu, 1),
            ),
        ],
        rounds=args.rounds,
        peak_rss_mib={name: round(value, 1) for name, value in rss.items()},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
