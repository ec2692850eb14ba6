"""Report rendering stays linear: time of every format at N and 2N, and the ratio between them.

Two workloads, each at size N and 2N (default N = 100,000):

  subjects  one attestation file whose statement names N subjects, none of them the checked
            digest (SL103 lists them): what made the text report take 90 s at 200,000 subjects;
  findings  a report of N findings over four platforms (rendered directly, no pipeline).

For each format the best of R runs counts; ``ratio`` is time(2N) / time(N), about 2 for linear
rendering (4 would be quadratic). The subjects workload also times the whole ``slsalint check``
run at 2N. The last line is JSON:
{"benchmark": "report_render", "n": N, "ratios": {"subjects/text": ..., ...}, "max_ratio": ...,
"check_2n_seconds": ...}

    python benchmarks/report_render.py [--n N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint.engine import LintOptions, LintRequest, lint  # noqa: E402
from slsalint.model import Finding, Level, Platform, PlatformTarget, Report, Target, TargetResult  # noqa: E402
from slsalint.report import FORMATS, render  # noqa: E402

OTHER = "sha256:" + hashlib.sha256(b"the checked artifact").hexdigest()


def subjects_file(directory: Path, n: int) -> Path:
    subjects = [
        {"name": f"pkg{i}", "digest": {"sha256": hashlib.sha256(str(i).encode()).hexdigest()}}
        for i in range(n)
    ]
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": subjects,
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {"builder": {"id": "https://example.com/builder"}, "buildType": "x"},
    }
    path = directory / f"subjects-{n}.intoto.json"
    path.write_text(json.dumps(statement), encoding="utf-8")
    return path


def subjects_report(path: Path) -> Report:
    return lint([LintRequest(attestations=[path], subject=OTHER)], LintOptions())


def findings_report(n: int) -> Report:
    platforms = [PlatformTarget("sha256:" + f"{i:064x}", Platform("linux", f"arch{i}")) for i in range(4)]
    target = Target("ghcr.io/acme/app:v1", "image", "sha256:" + "1" * 64, platforms)
    findings = [
        Finding(
            "SL404",
            "material-unpinned",
            Level.ERROR,
            f"material pkg:docker/base{i}@latest has no digest",
            target.reference,
            platform=f"linux/arch{i % 4}",
            digest=platforms[i % 4].digest,
            pointer=f"/predicate/materials/{i}",
            expected="a digest",
            actual=f"pkg:docker/base{i}@latest",
            remediation="pin the base image by digest",
        )
        for i in range(n)
    ]
    return Report("0.1.0", [TargetResult(target, findings)], [])


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.n, args.repeat
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {size: subjects_file(Path(tmp), size) for size in (n, 2 * n)}
        workloads = {
            "subjects": {size: subjects_report(path) for size, path in files.items()},
            "findings": {size: findings_report(size) for size in (n, 2 * n)},
        }
        for name, reports in workloads.items():
            for fmt in FORMATS:
                small = best(lambda r=reports[n], f=fmt: render(r, f), repeat)
                large = best(lambda r=reports[2 * n], f=fmt: render(r, f), repeat)
                ratios[f"{name}/{fmt}"] = round(large / small, 2) if small > 0 else 0.0
                print(
                    f"{name:8} {fmt:9} N={n:,}: {small:7.3f}s  2N: {large:7.3f}s  ratio {large / small:5.2f}"
                )
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "slsalint",
                "check",
                "-a",
                str(files[2 * n]),
                "--subject",
                OTHER,
                "-o",
                f"{tmp}/r.txt",
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )
        check_seconds = time.perf_counter() - start
        print(f"slsalint check, text report, {2 * n:,} subjects: {check_seconds:.2f}s")
    print(
        json.dumps(
            {
                "benchmark": "report_render",
                "n": n,
                "ratios": ratios,
                "max_ratio": max(ratios.values()),
                "check_2n_seconds": round(check_seconds, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
