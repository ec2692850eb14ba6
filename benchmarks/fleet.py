"""Many images, wide indexes: how wall time and memory grow.

Starts Debian's docker-registry on 127.0.0.1 and, in its own process, the loopback latency proxy
(``tests.support.latency_proxy``: a raw asyncio forwarder, light enough not to fall behind the
hundreds of requests a fleet sends at once) answering every request ``--latency-ms`` (default
20 ms) after it arrived. Pushes distinct 4-platform images (BuildKit
provenance + SPDX SBOM per platform, a cosign ``.att`` on the index) and single images of 1, 4, 16
and 64 platforms. Then, each as a new ``slsalint`` process with an empty cache:

- ``check --images LIST`` of 1, 10, 100 and 300 images (``--jobs`` default): wall time as a multiple
  of checking one image, peak memory, and the CPU time the registry process spent serving the run;
- ``check IMAGE`` of 1, 4, 16 and 64 platforms: wall time as a multiple of one platform, in round
  trips, the dependent round trips the proxy saw, and peak memory.

A remote registry's CPU is not the client's machine's; here the registry shares the cores with
the check, and Debian's docker-registry spends 1-1.5 ms of CPU on a manifest request and 3-4 ms
on a blob (it allocates a 4 MiB read buffer for each): 300 images cost it about 8 s of CPU, as
much as the wall time. So the runs above are answered the way a remote registry answers: every
answer goes once through the registry first (a run not measured), is recorded by the proxy, and
the measured requests are answered from the recording, byte for byte, still ``--latency-ms`` after
they arrived (``proxy_process(replay=True)``). The registry process's CPU column shows that it
served nothing then. The same run also checks 1 and the most images with every request forwarded
to the registry (``--live-rounds``, default 3), and prints and reports that ratio beside the
target (``live_registry``).

Rounds alternate the sizes; the median counts. Target (the final JSON line): 300 images within 20
times one image, measured in the same run.

    python benchmarks/fleet.py [--latency-ms 20] [--images 1,10,100,300] [--platforms 1,4,16,64]
                               [--rounds 3] [--live-rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._targets import emit, target  # noqa: E402
from benchmarks.registry_roundtrips import (  # noqa: E402
    build_image,
    data_round_trips,
    dependent_round_trips,
)
from tests.support.latency_proxy import proxy_process  # noqa: E402
from tests.support.registry import running_registry  # noqa: E402


def command() -> list[str]:
    script = Path(sys.executable).with_name("slsalint")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "slsalint"]


def run_check(args: list[str], root: Path, name: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one ``slsalint`` process with an empty cache."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "XDG_CACHE_HOME": str(root / f"cache-{name}")}
    done = subprocess.run(
        [sys.executable, "-c", probe, *command(), *args], cwd=root, env=env, capture_output=True, text=True
    )
    seconds, rss, code = done.stdout.split()
    return float(seconds), int(rss) / 1024, int(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--images", default="1,10,100,300")
    parser.add_argument("--platforms", default="1,4,16,64")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--live-rounds",
        type=int,
        default=3,
        help="rounds of 1 and of the most images with every request forwarded to the registry",
    )
    args = parser.parse_args()
    image_counts = sorted({int(n) for n in args.images.split(",")} | {1})
    platform_counts = sorted({int(n) for n in args.platforms.split(",")} | {1})
    latency = args.latency_ms / 1000
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "registry").mkdir()
        with running_registry(root / "registry") as registry:
            jobs = [(root / "layouts" / f"app{n}", 4, f"fleet/app{n}") for n in range(max(image_counts))]
            jobs += [(root / "layouts" / f"wide{c}", c, f"wide/p{c}") for c in platform_counts]

            def push(job: tuple[Path, int, str]) -> None:
                layout, count, repository = job
                build_image(layout, count)
                registry.push_layout(layout, repository)

            with ThreadPoolExecutor(max_workers=8) as pool:  # pushing is set-up, not measured
                list(pool.map(push, jobs))
            print(
                f"pushed {max(image_counts)} images and {len(platform_counts)} indexes "
                f"in {time.perf_counter() - started:.0f}s"
            )
            fleet: dict[int, list[tuple[float, float]]] = {n: [] for n in image_counts}
            served: dict[int, list[float]] = {n: [] for n in image_counts}
            wide: dict[int, list[tuple[float, float, int, int]]] = {n: [] for n in platform_counts}
            largest = max(image_counts)
            live: dict[int, list[tuple[float, float]]] = {1: [], largest: []}
            with proxy_process(registry.base, latency=latency) as (host, _):
                # Every request forwarded: the registry's CPU on the machine's cores with the check's.
                for count in live:
                    listing = root / f"live-{count}.txt"
                    listing.write_text("".join(f"{host}/fleet/app{n}:v1.0.0\n" for n in range(count)))
                for r in range(args.live_rounds):
                    for count in live:
                        registry_cpu = registry.cpu_seconds()
                        seconds, _, code = run_check(
                            ["check", "--images", str(root / f"live-{count}.txt")], root, f"l{count}-{r}"
                        )
                        assert code == 0, f"{count} images, live: exit {code}"
                        live[count].append((seconds, registry.cpu_seconds() - registry_cpu))
            with proxy_process(registry.base, latency=latency, replay=True) as (host, log):
                for count in image_counts:
                    listing = root / f"images-{count}.txt"
                    listing.write_text("".join(f"{host}/fleet/app{n}:v1.0.0\n" for n in range(count)))
                # Every answer once through the registry, recorded; the measured runs below are
                # answered from the recording, as a remote registry answers: its CPU not this
                # machine's.
                run_check(["check", "--images", str(root / f"images-{largest}.txt")], root, "prime")
                for count in platform_counts:
                    run_check(["check", f"{host}/wide/p{count}:v1.0.0"], root, f"prime-p{count}")
                for r in range(args.rounds):
                    for count in image_counts:
                        registry_cpu = registry.cpu_seconds()
                        seconds, rss, code = run_check(
                            [
                                "check",
                                "--images",
                                str(root / f"images-{count}.txt"),
                                "--format",
                                "json",
                                "-o",
                                str(root / "out.json"),
                            ],
                            root,
                            f"i{count}-{r}",
                        )
                        assert code == 0, f"{count} images: exit {code}"
                        fleet[count].append((seconds, rss))
                        served[count].append(registry.cpu_seconds() - registry_cpu)
                    for count in platform_counts:
                        before = len(log.timings())
                        seconds, rss, code = run_check(
                            ["check", f"{host}/wide/p{count}:v1.0.0"], root, f"p{count}-{r}"
                        )
                        assert code == 0, f"{count} platforms: exit {code}"
                        timings = log.timings()[before:]
                        chain = dependent_round_trips(timings)
                        wide[count].append((seconds, rss, chain, data_round_trips(timings)))
    one = statistics.median(s for s, _ in fleet[1])
    print(
        f"round trip {args.latency_ms:.0f} ms; median of {args.rounds} rounds, "
        "each a new process, empty cache; answers replayed (the registry's CPU off this machine)"
    )
    print("  images   wall s   x one image   peak RSS MiB   registry CPU s")
    results_images = {}
    for count in image_counts:
        wall = statistics.median(s for s, _ in fleet[count])
        rss = max(m for _, m in fleet[count])
        cpu = statistics.median(served[count])
        results_images[count] = {
            "seconds": round(wall, 3),
            "over_one_image": round(wall / one, 2),
            "peak_rss_mib": round(rss, 1),
            "registry_cpu_seconds": round(cpu, 2),
        }
        print(f"  {count:6d} {wall:8.2f} {wall / one:13.2f} {rss:14.1f} {cpu:16.2f}")
    one_platform = statistics.median(s for s, _, _, _ in wide[1])
    print("  platforms   wall s   RTT   x one platform   dependent round trips   peak RSS MiB")
    results_platforms = {}
    for count in platform_counts:
        wall = statistics.median(s for s, _, _, _ in wide[count])
        chain = int(statistics.median(c for _, _, c, _ in wide[count]))
        data = int(statistics.median(q for _, _, _, q in wide[count]))
        rss = max(m for _, m, _, _ in wide[count])
        results_platforms[count] = {
            "seconds": round(wall, 3),
            "wall_rtt": round(wall / latency, 1),
            "over_one_platform": round(wall / one_platform, 2),
            "dependent_round_trips": chain,
            "data_round_trips": data,
            "peak_rss_mib": round(rss, 1),
        }
        print(
            f"  {count:9d} {wall:8.2f} {wall / latency:5.0f} {wall / one_platform:16.2f} "
            f"{chain:23d} {rss:14.1f}"
        )
    live_one = statistics.median(s for s, _ in live[1]) if live[1] else None
    live_most = statistics.median(s for s, _ in live[largest]) if live[largest] else None
    live_cpu = statistics.median(c for _, c in live[largest]) if live[largest] else None
    if live_one and live_most is not None and live_cpu is not None:
        print(
            f"  live registry (every request forwarded, median of {args.live_rounds}): 1 image "
            f"{live_one:.2f} s, {largest} images {live_most:.2f} s = {live_most / live_one:.2f}x, "
            f"registry CPU {live_cpu:.2f} s"
        )
    live_fields = (
        {
            "live_registry": {
                "one_image_seconds": round(live_one, 3),
                "seconds": round(live_most, 3),
                "over_one_image": round(live_most / live_one, 2),
                "registry_cpu_seconds": round(live_cpu, 2),
            }
        }
        if live_one and live_most is not None and live_cpu is not None
        else {}
    )
    emit(
        "fleet",
        [
            target(
                f"images_{largest}_over_one_image",
                results_images[largest]["seconds"] / one,
                20.0,
                unit="x",
                baseline={"one_image_seconds": round(one, 3)},
                seconds=results_images[largest]["seconds"],
                peak_rss_mib=results_images[largest]["peak_rss_mib"],
                registry_cpu_seconds=results_images[largest]["registry_cpu_seconds"],
                registry="replayed",
                **live_fields,
            )
        ],
        latency_ms=args.latency_ms,
        rounds=args.rounds,
        images=results_images,
        platforms=results_platforms,
        self_peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
