"""Reading an image from a registry at a given latency: round trips, wall time, and skopeo.

Starts Debian's docker-registry on 127.0.0.1 and, in its own process (its CPU time is not the
check's, as a remote registry's is not), a loopback proxy that answers every request ``--latency-ms``
after it arrived (default 20 ms: one round trip): ``tests.support.latency_proxy``, a raw asyncio
forwarder that sends each request on at once and holds its answer until then. A heavier proxy (a
thread and an httpx request per request) costs about as much CPU as the check itself, so on a
small machine its answers leave late and the benchmark measures the proxy; ``latency_proxy.py``
measures both. Pushes a 4-platform image whose platforms each carry a
BuildKit attestation manifest (SLSA provenance + SPDX SBOM) plus a cosign ``.att`` tag on the index,
and a 64-platform index built the same way. Then, with an empty cache each time:

- **dependent round trips**: the proxy logs when each request arrived, when its answer left and
  which digests the answer named; the longest chain of requests each sent after the answer of the
  one before it had arrived is the number of round trips waited for one after another (concurrent
  requests do not add up, requests queued behind a busy connection do). Also printed: the chain the
  data alone forces (a request for a digest after the first answer naming it), the floor;
- **in-process cold check** (interpreter warmed on a local layout, so imports and schema
  compilation are not counted): wall time as a multiple of the round trip;
- **CLI cold check** (`slsalint check REF`, a new process): wall time, and when its first request
  reached the proxy after the process was started;
- **skopeo copy --all** of the same image through the same proxy, in the same run: its wall time is
  the baseline of the CLI check, and its own round trips are counted the same way;
- **warm re-check by digest** with the cache: blob requests (must be none);
- the **64-platform index**: its dependent round trips.

The registry's CPU: a remote registry's is not the client's machine's, but here Debian's
docker-registry shares the cores with the check and spends 1-1.5 ms of CPU on a manifest request
and 3-4 ms on a blob (it reads each through a 4 MiB buffer of its own): the 64-platform index
costs it ~600 ms, more than the check's wall time. So every kind of run goes once through the
registry first, not measured, with the proxy recording each answer; the measured runs are
answered from that recording, byte for byte and still ``--latency-ms`` after they arrived
(``proxy_process(replay=...)``). skopeo's baseline is answered the same way. The 4- and
64-platform in-process checks also run with every request forwarded, in the same rounds, and are
printed and reported beside their targets (``live_registry``, with the registry's CPU time).

Targets (the final JSON line): first request within 100 ms of start; the 4-platform check within
5 round trips of wall time and within 1x skopeo copy --all; the 64-platform index within 5
dependent round trips; no blob request when re-checking by digest.

    python benchmarks/registry_roundtrips.py [--latency-ms 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._targets import emit, peak_rss_mib, target  # noqa: E402
from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint  # noqa: E402
from slsalint.model import Platform  # noqa: E402
from slsalint.policy import Policy  # noqa: E402
from slsalint.sources.layout_writer import LayoutWriter  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402
from tests.support.latency_proxy import proxy_process  # noqa: E402
from tests.support.registry import Registry, running_registry  # noqa: E402

PLATFORMS_4 = [
    Platform("linux", "amd64"),
    Platform("linux", "arm64", "v8"),
    Platform("linux", "arm", "v7"),
    Platform("linux", "s390x"),
]


def platforms(count: int) -> list[Platform]:
    """``count`` distinct platforms (the four real ones first, then made-up architectures)."""
    out = list(PLATFORMS_4[:count])
    out += [Platform("linux", f"arch{n}") for n in range(count - len(out))]
    return out


def build_image(path: Path, count: int, *, sbom: bool = True) -> str:
    """An OCI layout with an index over ``count`` attested platforms and a cosign ``.att`` on the
    index, tagged v1.0.0; returns the index digest."""
    writer = LayoutWriter(path)
    images = [bk.add_platform_image(writer, p, seed=f"{path.name}-{p}") for p in platforms(count)]
    manifests = list(images)
    for image in images:
        statements = [bk.buildkit_v02_statement(image["digest"])]
        if sbom:
            statements.append(bk.spdx_statement(image["digest"]))
        manifests.append(bk.add_attestation_manifest(writer, image, statements))
    index = bk.add_index(writer, manifests, ref_name="v1.0.0")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    writer.write_index()
    return str(index["digest"])


Timing = tuple[str, float, float, tuple[str, ...]]
"""(request path, when it arrived, when its answer left, digests the answer named)."""
_NEEDS = re.compile(r"/(?:manifests|blobs|referrers)/sha256[:-]([0-9a-f]{64})")


def data_round_trips(timings: list[Timing]) -> int:
    """The round trips any client must wait for one after another, because it needs what an
    answer said: a request for a digest (a manifest, a blob, a referrers listing, a ``sha256-HEX``
    tag) follows the first answer that named that digest and had left before the request
    arrived; a request for something no earlier answer named (the tag asked for, a token) starts
    a chain. The longest chain is the count: the floor ``dependent_round_trips`` can reach."""
    by_arrival = sorted(range(len(timings)), key=lambda i: timings[i][1])
    by_answer = sorted(range(len(timings)), key=lambda i: timings[i][2])
    depth = [0] * len(timings)
    first_named: dict[str, int] = {}
    answered = 0
    for index in by_arrival:
        path, arrived, _, _ = timings[index]
        while answered < len(by_answer) and timings[by_answer[answered]][2] <= arrived:
            done = by_answer[answered]
            for digest in timings[done][3]:
                first_named.setdefault(digest, depth[done])
            answered += 1
        match = _NEEDS.search(path)
        parent = first_named.get(f"sha256:{match.group(1)}") if match else None
        depth[index] = 1 if parent is None else parent + 1
    return max(depth, default=0)


def dependent_round_trips(timings: list[Timing]) -> int:
    """The longest chain of requests each sent after the answer of the one before it had arrived:
    the round trips the client waited for one after another (for data it needed, or for a free
    connection or thread), which the wall time must contain."""
    chain = 0
    last_answer = float("-inf")
    for _, arrived, answered, _ in sorted(timings, key=lambda t: t[2]):
        if arrived >= last_answer:
            chain += 1
            last_answer = answered
    return chain


@dataclass
class Run:
    seconds: float
    requests: int
    blob_requests: int
    round_trips: int
    """Dependent round trips (``dependent_round_trips``)."""
    data: int
    """Round trips the data alone forces (``data_round_trips``)."""
    first_request: float | None = None
    """Seconds from starting the process to its first request reaching the proxy."""
    registry_cpu: float = 0.0
    """CPU seconds the registry process spent serving the run (on a small machine it competes with
    the check for the same cores)."""


def _chains(timings: list[Timing]) -> tuple[int, int]:
    return dependent_round_trips(timings), data_round_trips(timings)


def cold_in_process(
    registry: Registry, latency: float, root: Path, repository: str, name: str, replay: Path | bool = False
) -> Run:
    with proxy_process(registry.base, latency=latency, replay=replay) as (host, log):
        settings = RegistrySettings(use_cache=True, cache_dir=root / f"cache-{name}")
        policy = Policy(packs=["docker-scout"])
        served = registry.cpu_seconds()
        started = time.perf_counter()
        report = lint(
            [LintRequest(target=f"{host}/{repository}:v1.0.0")], LintOptions(policy=policy, registry=settings)
        )
        seconds = time.perf_counter() - started
        served = registry.cpu_seconds() - served
        assert report.exit_code == 0, [f.message for f in report.findings]
        timings = log.timings()
        return Run(seconds, len(timings), len(log("/blobs/")), *_chains(timings), registry_cpu=served)


def cold_cli(
    registry: Registry, latency: float, root: Path, repository: str, name: str, replay: Path | bool = False
) -> Run:
    script = Path(sys.executable).with_name("slsalint")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "slsalint"]
    with proxy_process(registry.base, latency=latency, replay=replay) as (host, log):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "XDG_CACHE_HOME": str(root / f"xdg-{name}")}
        started_at = time.monotonic()
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "check", f"{host}/{repository}:v1.0.0", "--pack", "docker-scout"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        timings = log.timings()
        first = min(arrived for _, arrived, _, _ in timings) - started_at
        return Run(seconds, len(timings), len(log("/blobs/")), *_chains(timings), first)


def skopeo_copy(
    registry: Registry, latency: float, root: Path, repository: str, name: str, replay: Path | bool = False
) -> Run:
    with proxy_process(registry.base, latency=latency, replay=replay) as (host, log):
        destination = root / f"skopeo-{name}"
        started = time.perf_counter()
        done = subprocess.run(
            [
                "skopeo",
                "copy",
                "--all",
                "--src-tls-verify=false",
                "--quiet",
                f"docker://{host}/{repository}:v1.0.0",
                f"oci:{destination}:v1.0.0",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        timings = log.timings()
        return Run(seconds, len(timings), len(log("/blobs/")), *_chains(timings))


def warm_by_digest(
    registry: Registry,
    latency: float,
    root: Path,
    repository: str,
    digest: str,
    name: str,
    replay: Path | bool = False,
) -> Run:
    with proxy_process(registry.base, latency=latency, replay=replay) as (host, log):
        settings = RegistrySettings(use_cache=True, cache_dir=root / f"cache-{name}")
        started = time.perf_counter()
        report = lint(
            [LintRequest(target=f"{host}/{repository}@{digest}")],
            LintOptions(policy=Policy(packs=["docker-scout"]), registry=settings),
        )
        seconds = time.perf_counter() - started
        assert report.exit_code == 0
        timings = log.timings()
        return Run(seconds, len(timings), len(log("/blobs/")), *_chains(timings))


def median_run(runs: list[Run]) -> Run:
    """The run of median wall time (its counts go with it)."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="cold runs of each kind; the median counts")
    args = parser.parse_args()
    if shutil.which("skopeo") is None:
        print("skopeo is not installed (make system-deps installs it)", file=sys.stderr)
        return 1
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "registry").mkdir()
        with running_registry(root / "registry") as registry:
            digest = build_image(root / "layout4", 4)
            registry.push_layout(root / "layout4", "bench/app")
            build_image(root / "layout64", 64)
            registry.push_layout(root / "layout64", "bench/wide")
            # Warm the interpreter (imports, schema compilation, packs) on the local layout, so that
            # "cold" below means an empty cache and fresh connections, not a cold interpreter.
            lint(
                [LintRequest(target=f"oci:{root / 'layout4'}")],
                LintOptions(policy=Policy(packs=["docker-scout"])),
            )
            # Every request of each kind once through the registry, its answer recorded: the
            # measured runs are answered from the recording (see the module's docstring).
            replay = root / "answers.json"
            cold_in_process(registry, latency, root, "bench/app", "prime-a", replay)
            cold_cli(registry, latency, root, "bench/app", "prime-c", replay)
            skopeo_copy(registry, latency, root, "bench/app", "prime-s", replay)
            cold_in_process(registry, latency, root, "bench/wide", "prime-w", replay)
            kinds = ("in_process", "cli", "skopeo", "wide", "live", "live_wide")
            runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
            for n in range(args.rounds):  # alternate the kinds, so noise hits each alike
                runs["in_process"].append(
                    cold_in_process(registry, latency, root, "bench/app", f"a{n}", replay)
                )
                runs["cli"].append(cold_cli(registry, latency, root, "bench/app", f"c{n}", replay))
                runs["skopeo"].append(skopeo_copy(registry, latency, root, "bench/app", f"s{n}", replay))
                runs["wide"].append(cold_in_process(registry, latency, root, "bench/wide", f"w{n}", replay))
                runs["live"].append(cold_in_process(registry, latency, root, "bench/app", f"la{n}"))
                runs["live_wide"].append(cold_in_process(registry, latency, root, "bench/wide", f"lw{n}"))
            warm = warm_by_digest(registry, latency, root, "bench/app", digest, "a0", replay)
    cold, cli, skopeo, wide, live, live_wide = (median_run(runs[k]) for k in kinds)
    ms = args.latency_ms
    first = statistics.median(r.first_request for r in runs["cli"] if r.first_request is not None) * 1000
    print(f"round trip: {ms:.0f} ms (added by the proxy to every request); median of {args.rounds} cold runs")
    for label, run in (
        ("check, in process (4 platforms)", cold),
        ("check, CLI (4 platforms)", cli),
        ("skopeo copy --all (4 platforms)", skopeo),
        ("check, in process (64 platforms)", wide),
        ("re-check by digest, warm cache", warm),
        ("live registry: 4 platforms", live),
        ("live registry: 64 platforms", live_wide),
    ):
        print(
            f"  {label:34s} {run.seconds * 1000:7.0f} ms = {run.seconds / latency:5.1f} RTT  "
            f"{run.round_trips:3d} dependent round trips (data alone: {run.data}), "
            f"{run.requests:4d} requests ({run.blob_requests} blob)"
            + (f", registry CPU {run.registry_cpu * 1000:.0f} ms" if run.registry_cpu else "")
        )
    print(f"  CLI first request after {first:.0f} ms")
    emit(
        "registry_roundtrips",
        [
            target("first_request_ms", first, 100, unit="ms"),
            target(
                "check_4_platforms_wall_rtt",
                cold.seconds / latency,
                5,
                unit="RTT",
                baseline={"rtt_ms": ms},
                seconds=round(cold.seconds, 4),
                dependent_round_trips=cold.round_trips,
                data_round_trips=cold.data,
                requests=cold.requests,
                registry="replayed",
                live_registry={
                    "wall_rtt": round(live.seconds / latency, 2),
                    "dependent_round_trips": live.round_trips,
                    "registry_cpu_ms": round(live.registry_cpu * 1000, 1),
                },
            ),
            target(
                "check_4_platforms_over_skopeo_copy_all",
                cli.seconds / skopeo.seconds,
                1.0,
                unit="x",
                registry="replayed",
                baseline={
                    "skopeo_seconds": round(skopeo.seconds, 4),
                    "skopeo_dependent_round_trips": skopeo.round_trips,
                    "skopeo_data_round_trips": skopeo.data,
                    "skopeo_requests": skopeo.requests,
                },
                cli_seconds=round(cli.seconds, 4),
                cli_dependent_round_trips=cli.round_trips,
            ),
            target(
                "index_64_platforms_dependent_round_trips",
                wide.round_trips,
                5,
                unit="round trips",
                seconds=round(wide.seconds, 4),
                wall_rtt=round(wide.seconds / latency, 2),
                data_round_trips=wide.data,
                requests=wide.requests,
                registry="replayed",
                live_registry={
                    "dependent_round_trips": live_wide.round_trips,
                    "seconds": round(live_wide.seconds, 4),
                    "registry_cpu_ms": round(live_wide.registry_cpu * 1000, 1),
                    "registry_cpu_ms_per_request": round(
                        live_wide.registry_cpu * 1000 / max(live_wide.requests, 1), 3
                    ),
                },
            ),
            target(
                "warm_recheck_blob_requests", warm.blob_requests, 0, unit="requests", requests=warm.requests
            ),
        ],
        latency_ms=ms,
        rounds=args.rounds,
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
