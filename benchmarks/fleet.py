"""Many images, wide indexes: how wall time and memory grow.

Starts Debian's docker-registry on 127.0.0.1 and, in its own process, the loopback latency proxy
(``tests.support.latency_proxy``: a raw asyncio forwarder, light enough not to fall behind the
hundreds of requests a fleet sends at once) answering every request ``--latency-ms`` (default
20 ms) after it arrived. Pushes distinct 4-platform images (BuildKit
provenance + SPDX SBOM per platform, a cosign ``.att`` on the index) and single images of 1, 4, 16
and 64 platforms. Then, each as a new ``slsalint`` process with an empty cache:

- ``check --images LIST`` of 1, 10, 100 and 300 images (``--jobs`` default): wall time as a multiple
  of checking one image, peak memory, and the CPU time the registry process spent serving the run
  (on a small machine the registry and the check share the cores);
- ``check IMAGE`` of 1, 4, 16 and 64 platforms: wall time as a multiple of one platform, in round
  trips, the dependent round trips the proxy saw, and peak memory.

Rounds alternate the sizes; the median counts. Target (the final JSON line): 300 images within 20
times one image, measured in the same run.

    python benchmarks/fleet.py [--latency-ms 20] [--images 1,10,100,300] [--platforms 1,4,16,64]
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
            with proxy_process(registry.base, latency=latency) as (host, log):
                for count in image_counts:
                    listing = root / f"images-{count}.txt"
                    listing.write_text("".join(f"{host}/fleet/app{n}:v1.0.0\n" for n in range(count)))
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
        "each a new process, empty cache"
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
    largest = max(image_counts)
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
