"""Bundle verification speed: slsalint's ``verify_bundle`` against sigstore-python's own
``Verifier.verify_dsse`` on the same bundles, in the same process, with the same trusted root.

Each measured verification starts from the bundle's JSON bytes, as in a real run: the baseline is
``Bundle.from_json`` + ``verify_dsse`` (with an accept-any-certificate policy, since slsalint matches
identities separately); slsalint adds routing, signer-identity extraction and subject parsing.
Rounds alternate between the two so machine noise hits both alike. The own verification path
(``intoto/0.0.2`` bundles, which sigstore-python cannot verify) is timed too, for reference.

    python benchmarks/verify.py [--count 1000] [--corpus tests/assets/corpus]

The last line is JSON: ``{"benchmark": "verify", ...}`` with per-bundle times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sigstore.models import Bundle  # noqa: E402
from sigstore.verify import Verifier  # noqa: E402

from slsalint.verify.bundle import verify_bundle  # noqa: E402
from slsalint.verify.trust import TrustRoot  # noqa: E402

# dsse/0.0.1 bundles (sigstore-python verifies these) from the public-good instance.
SIGSTORE_BUNDLES = (
    "sigstore-conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
    "github-attestations/bcr-publish-to-bcr.MODULE.bazel.bundle-v0.3.intoto.jsonl",
    "github-attestations/reusable-workflow.attest-demo.bundle-v0.3.json",
    "slsa-github-generator/gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl",
    "cosign-v3-referrers/ghcr.cosign-sign.bundle-v0.3.sigstore.json",
)
# intoto/0.0.2 bundles: slsalint's own verification path.
OWN_PATH_BUNDLES = (
    "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json",
    "slsa-github-generator/container-based-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json",
)
PUBLIC_GOOD = "trust-roots/sigstore-public-good.production.trusted_root.json"


class AnyCertificate:
    def verify(self, cert: Any) -> None:
        return None


def load(corpus: Path, names: tuple[str, ...]) -> list[bytes]:
    return [(corpus / name).read_bytes().strip() for name in names]


def time_ours(bundles: list[bytes], trust: TrustRoot, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        result = verify_bundle(bundles[i % len(bundles)], trust)
        if not result.verified:
            raise SystemExit(f"benchmark bundle failed to verify: {result.message}")
    return time.perf_counter() - start


def time_sigstore(bundles: list[bytes], verifier: Verifier, count: int) -> float:
    policy = AnyCertificate()
    start = time.perf_counter()
    for i in range(count):
        verifier.verify_dsse(Bundle.from_json(bundles[i % len(bundles)]), policy)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="verifications per side (default 1000)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (default 10)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "assets" / "corpus")
    args = parser.parse_args()
    if not (args.corpus / PUBLIC_GOOD).is_file():
        print(json.dumps({"benchmark": "verify", "error": f"corpus not found at {args.corpus}"}))
        return 2
    trust = TrustRoot.from_file(args.corpus / PUBLIC_GOOD)
    verifier = trust.sigstore_verifier()
    bundles = load(args.corpus, SIGSTORE_BUNDLES)
    own = load(args.corpus, OWN_PATH_BUNDLES)

    time_ours(bundles, trust, 50)  # warm up imports and caches on both sides
    time_sigstore(bundles, verifier, 50)
    per_round = max(1, args.count // args.rounds)
    ours: list[float] = []
    theirs: list[float] = []
    for round_ in range(args.rounds):
        if round_ % 2:
            theirs.append(time_sigstore(bundles, verifier, per_round))
            ours.append(time_ours(bundles, trust, per_round))
        else:
            ours.append(time_ours(bundles, trust, per_round))
            theirs.append(time_sigstore(bundles, verifier, per_round))
    total = per_round * args.rounds
    ours_ms = sum(ours) / total * 1000
    theirs_ms = sum(theirs) / total * 1000
    round_ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    own_ms = time_ours(own, trust, max(1, total // 5)) / max(1, total // 5) * 1000

    print(f"bundles verified per side       {total}")
    print(f"slsalint verify_bundle          {ours_ms:.3f} ms/bundle")
    print(f"sigstore-python verify_dsse     {theirs_ms:.3f} ms/bundle")
    print(
        f"ratio (target <= 1.2)           {ours_ms / theirs_ms:.3f} "
        f"(median round {statistics.median(round_ratios):.3f})"
    )
    print(f"own path (intoto/0.0.2)         {own_ms:.3f} ms/bundle")
    print(
        json.dumps(
            {
                "benchmark": "verify",
                "count": total,
                "slsalint_ms_per_bundle": round(ours_ms, 4),
                "sigstore_ms_per_bundle": round(theirs_ms, 4),
                "ratio": round(ours_ms / theirs_ms, 4),
                "median_round_ratio": round(statistics.median(round_ratios), 4),
                "own_path_ms_per_bundle": round(own_ms, 4),
                "target_ratio": 1.2,
                "ok": ours_ms / theirs_ms <= 1.2,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
