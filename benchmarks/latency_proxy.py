"""The benchmarks' latency proxy: its CPU per request, and how late its answers leave.

The registry benchmarks put a loopback proxy between slsalint and Debian's docker-registry that
holds every answer one round trip (``--latency-ms``, default 20 ms). Its CPU time is taken from the
same cores as the measured client, and a proxy that falls behind answers late, so the benchmarks
would measure the proxy. This runs the 64-platform index check of ``registry_roundtrips.py``
(in process, empty cache, ``--rounds`` times) through each of:

- ``tests.support.proxy`` (thread per connection, httpx forwarder): the baseline;
- ``tests.support.latency_proxy`` (raw asyncio forwarder, one thread): what the benchmarks use.

Each proxy runs in its own process; its CPU time (user + system, all threads, from ``wait4``) less
that of the same proxy started and stopped with no request, divided by the requests it answered,
is its CPU per request. Also printed: how long after arrival + latency each answer left (median,
90th percentile, largest).

Targets (the final JSON line): the latency proxy within 200 us of CPU per request; its answers
leave within 2 ms of the latency at the 90th percentile; none leaves early.

    python benchmarks/latency_proxy.py [--latency-ms 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._targets import emit, target  # noqa: E402
from benchmarks.registry_roundtrips import build_image  # noqa: E402
from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint  # noqa: E402
from slsalint.policy import Policy  # noqa: E402
from tests.support.proxy import _ProcessLog  # noqa: E402
from tests.support.registry import Registry, running_registry  # noqa: E402

PROXIES = {"thread + httpx": "tests.support.proxy", "raw asyncio": "tests.support.latency_proxy"}


@dataclass
class Measured:
    cpu_seconds: float
    """The proxy process's CPU time over its whole life."""
    requests: int
    late: list[float]
    """Per answer: seconds it left after arrival + latency (negative: early)."""


def run_proxy(module: str, upstream: str, latency: float, work: list[str], root: Path) -> Measured:
    """Start ``python -m module`` (the proxies' common command line), check each repository of
    ``work`` through it with an empty cache, stop it; its CPU time from ``wait4``."""
    log = str(root / f"log-{module}.json")
    process = subprocess.Popen(
        [sys.executable, "-m", module, upstream, str(latency), log],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    host = process.stdout.readline().strip()
    for n, repository in enumerate(work):
        settings = RegistrySettings(
            use_cache=True, cache_dir=root / f"cache-{module}-{n}-{os.urandom(4).hex()}"
        )
        report = lint(
            [LintRequest(target=f"{host}/{repository}:v1.0.0")],
            LintOptions(policy=Policy(packs=["docker-scout"]), registry=settings),
        )
        assert report.exit_code == 0, [f.message for f in report.findings]
    timings = _ProcessLog(process, log).timings()
    process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"{module} exited {process.returncode}"
    late = [answered - arrived - latency for _, arrived, answered, _ in timings]
    return Measured(usage.ru_utime + usage.ru_stime, len(timings), late)


def per_request(
    registry: Registry, module: str, latency: float, rounds: int, root: Path
) -> tuple[float, Measured]:
    idle = min(run_proxy(module, registry.base, latency, [], root).cpu_seconds for _ in range(3))
    busy = run_proxy(module, registry.base, latency, ["bench/wide"] * rounds, root)
    return (busy.cpu_seconds - idle) / busy.requests, busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="64-platform checks through each proxy")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    results: dict[str, tuple[float, Measured]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "registry").mkdir()
        with running_registry(root / "registry") as registry:
            build_image(root / "layout64", 64)
            registry.push_layout(root / "layout64", "bench/wide")
            # Warm the interpreter (imports, schema compilation, packs) on the local layout.
            lint(
                [LintRequest(target=f"oci:{root / 'layout64'}")],
                LintOptions(policy=Policy(packs=["docker-scout"])),
            )
            for label, module in PROXIES.items():
                results[label] = per_request(registry, module, latency, args.rounds, root)
    print(
        f"round trip {args.latency_ms:.0f} ms; {args.rounds} cold 64-platform index checks through each proxy"
    )
    for label, (cpu, run) in results.items():
        late = sorted(run.late)
        p90 = late[int(len(late) * 0.9)]
        print(
            f"  {label:15s} {cpu * 1e6:7.0f} us CPU per request ({run.requests} requests); answers left "
            f"{statistics.median(late) * 1000:.2f} ms (median), {p90 * 1000:.2f} ms (p90), "
            f"{late[-1] * 1000:.2f} ms (max) after arrival + latency, earliest {late[0] * 1000:.2f} ms"
        )
    old_cpu, old = results["thread + httpx"]
    cpu, new = results["raw asyncio"]
    late = sorted(new.late)
    emit(
        "latency_proxy",
        [
            target(
                "latency_proxy_cpu_us_per_request",
                cpu * 1e6,
                200,
                unit="us",
                baseline={"thread_httpx_proxy_us_per_request": round(old_cpu * 1e6, 1)},
                over_baseline=round(cpu / old_cpu, 3),
                requests=new.requests,
            ),
            target(
                "latency_proxy_late_ms_p90",
                late[int(len(late) * 0.9)] * 1000,
                2.0,
                unit="ms",
                baseline={
                    "thread_httpx_proxy_late_ms_p90": round(
                        sorted(old.late)[int(len(old.late) * 0.9)] * 1000, 2
                    )
                },
            ),
            target("latency_proxy_early_answers", sum(1 for x in late if x < 0), 0, unit="answers"),
        ],
        latency_ms=args.latency_ms,
        rounds=args.rounds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
