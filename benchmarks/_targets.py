"""What every benchmark's final JSON line says about the issue's targets.

A target is one entry of ``"targets"``: its name, the measured value, the limit it must stay
within, the baseline the value is a multiple of (measured in the same run), and whether it holds.
"""

from __future__ import annotations

import json
import os
import resource
from typing import Any


def target(
    name: str, value: float, limit: float, *, unit: str, baseline: Any = None, **extra: Any
) -> dict[str, Any]:
    """``value <= limit``; ``baseline`` names what ``value`` is measured against (with its own
    measured value), for ratios."""
    entry: dict[str, Any] = {"target": name, "value": round(value, 3), "limit": limit, "unit": unit}
    if baseline is not None:
        entry["baseline"] = baseline
    entry.update(extra)
    entry["met"] = bool(value <= limit)
    return entry


def emit(benchmark: str, targets: list[dict[str, Any]], **measurements: Any) -> None:
    """Print the human summary of each target, then the final JSON line."""
    for t in targets:
        mark = "ok  " if t["met"] else "MISS"
        print(f"[{mark}] {t['target']}: {t['value']} {t['unit']} (limit {t['limit']})")
    print(json.dumps({"benchmark": benchmark, **measurements, "targets": targets}))


def one_core() -> None:
    """Pin this process (and what it starts) to one CPU, as the issue's targets are stated."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[0]})


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MiB (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024
