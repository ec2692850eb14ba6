"""How many round trips does a cold check cost, and does a warm re-check fetch any blob?

Starts Debian's docker-registry on 127.0.0.1 and a loopback proxy in front of it that adds a fixed
latency to every request. Pushes a 4-platform image whose platforms each carry a BuildKit
attestation manifest (SLSA provenance + SPDX SBOM), plus a cosign ``.att`` tag on the index. Then:

The proxy runs in its own process, so its CPU time is not taken from the check (a remote
registry's is not either).

- cold: ``check REF:TAG`` with an empty cache (the interpreter is warmed first on the local layout,
  so imports, schema compilation and pack files are not counted); wall time divided by the per-request latency
  is printed, and so is the latency-attributable part: the same cold check without added latency
  is timed too, and the difference divided by the latency is the number of requests on the
  critical path (target: at most 5), free of the local CPU time the loopback proxy shares with us;
- warm: ``check REF@DIGEST`` again with the cache; blob requests (target: 0).

Prints a final JSON line with the measurements.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint  # noqa: E402
from slsalint.model import Platform, Report  # noqa: E402
from slsalint.policy import Policy  # noqa: E402
from slsalint.sources.layout_writer import LayoutWriter  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402
from tests.support.proxy import proxy_process  # noqa: E402
from tests.support.registry import running_registry  # noqa: E402

PLATFORMS = [
    Platform("linux", "amd64"),
    Platform("linux", "arm64", "v8"),
    Platform("linux", "arm", "v7"),
    Platform("linux", "s390x"),
]


def build_image(path: Path) -> str:
    writer = LayoutWriter(path)
    manifests = []
    images = [bk.add_platform_image(writer, p, seed=str(p)) for p in PLATFORMS]
    manifests += images
    for image in images:
        statements = [bk.buildkit_v02_statement(image["digest"]), bk.spdx_statement(image["digest"])]
        manifests.append(bk.add_attestation_manifest(writer, image, statements))
    index = bk.add_index(writer, manifests, ref_name="v1.0.0")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    writer.write_index()
    return str(index["digest"])


def measure_cold(
    upstream: str, latency: float, root: Path, policy: Policy, name: str
) -> tuple[float, int, int, Report]:
    """One cold check (empty cache) through a proxy adding ``latency`` per request."""
    with proxy_process(upstream, latency=latency) as (host, requests):
        settings = RegistrySettings(use_cache=True, cache_dir=root / f"cache-{name}")
        started = time.perf_counter()
        report = lint(
            [LintRequest(target=f"{host}/bench/app:v1.0.0")], LintOptions(policy=policy, registry=settings)
        )
        seconds = time.perf_counter() - started
        return seconds, len(requests()), len(requests("/blobs/")), report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "registry").mkdir()
        with running_registry(root / "registry") as registry:
            digest = build_image(root / "layout")
            registry.push_layout(root / "layout", "bench/app")
            policy = Policy(packs=["docker-scout"])
            # Warm the process (imports, schema compilation) on the local layout, so "cold" below
            # means an empty cache and fresh connections, not a cold interpreter.
            lint([LintRequest(target=f"oci:{root / 'layout'}")], LintOptions(policy=policy))
            cold_seconds, cold_requests, cold_blobs, cold = measure_cold(
                registry.base, latency, root, policy, "a"
            )
            # The same cold check without added latency: the difference is what latency costs, i.e.
            # the requests on the critical path (local CPU work, here shared with the proxy, cancels out).
            base_seconds, _, _, _ = measure_cold(registry.base, 0.0, root, policy, "b")
            with proxy_process(registry.base, latency=latency) as (host, requests):
                options = LintOptions(
                    policy=policy, registry=RegistrySettings(use_cache=True, cache_dir=root / "cache-a")
                )
                started = time.perf_counter()
                warm = lint([LintRequest(target=f"{host}/bench/app@{digest}")], options)
                warm_seconds = time.perf_counter() - started
                warm_requests = len(requests())
                warm_blobs = len(requests("/blobs/"))
    assert cold.exit_code == warm.exit_code == 0, [f.message for f in cold.findings + warm.findings]
    round_trips = cold_seconds / latency
    critical_path = (cold_seconds - base_seconds) / latency
    print(
        f"same check without added latency: {base_seconds * 1000:.0f} ms; latency-attributable "
        f"round trips: {critical_path:.1f}"
    )
    print(
        f"cold check: {cold_seconds * 1000:.0f} ms = {round_trips:.1f} round trips "
        f"of {args.latency_ms:.0f} ms, "
        f"{cold_requests} requests ({cold_blobs} blob)"
    )
    print(
        f"warm re-check by digest: {warm_seconds * 1000:.0f} ms, {warm_requests} requests ({warm_blobs} blob)"
    )
    print(
        json.dumps(
            {
                "benchmark": "registry_roundtrips",
                "latency_ms": args.latency_ms,
                "cold_round_trips": round(round_trips, 2),
                "critical_path_round_trips": round(critical_path, 2),
                "cold_requests": cold_requests,
                "warm_requests": warm_requests,
                "warm_blob_requests": warm_blobs,
                "target_cold_round_trips": 5,
                "target_warm_blob_requests": 0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
