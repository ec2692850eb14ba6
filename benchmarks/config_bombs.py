"""Hostile configuration YAML is refused as fast as a real policy is read.

Times, on one core, the guarded reader (``slsalint.yamlio``) on:

  (a) a realistic policy file (the baseline);
  (b) a billion-laughs alias bomb (9 levels of 9 aliases: 387 420 489 values once expanded);
  (c) 200 000 nested flow brackets;
  (d) the largest exceptions file accepted (just under 1 MiB, about 3 700 entries);

and, for comparison, ruamel's own parser (events only: composing recurses and fails long before)
on (c) cut to 3 000 brackets. Its scanner is quadratic in the nesting: the full file takes it
minutes, which is why the guard stops at the first level past the bound. Each measurement runs
three times; the best run counts. The last line is JSON:
{"benchmark": "config_bombs", "policy_seconds": ..., "laughs_ratio": ..., "brackets_ratio": ...,
"largest_exceptions_ratio": ..., "ruamel_brackets_3000_ratio": ...}
(ratios are against the realistic policy).

    python benchmarks/config_bombs.py [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint import yamlio  # noqa: E402
from slsalint.errors import ConfigError  # noqa: E402

POLICY = """\
version: 1
packs: [recommended, docker-scout]
fail-on: error
rules:
  SL302: {level: warning}
  SL301: {allowed: ["https://github.com/docker/github-builder"]}
signers:
  - issuer: https://token.actions.githubusercontent.com
    identity-regexp: '^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/'
components:
  app:
    images: ["*/acme/app"]
    source: https://github.com/acme/app
    ref: "refs/tags/{tag}"
    tag-transforms: [strip-v]
  worker:
    images: ["*/acme/worker", "*/acme/worker-*"]
    source: https://github.com/acme/worker
exceptions: slsalint-exceptions.yaml
exceptions-horizon-days: 90
"""


def laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def largest_exceptions() -> str:
    entry = (
        "  - rule: SL302\n    component: comp-{i}\n    platforms: [linux/arm64]\n"
        "    reason: arm64 still built by the legacy pipeline\n    owner: release-team@example.com\n"
        "    ticket: REL-{i}\n    expires: 2026-12-31\n"
    )
    parts = ["version: 1\nexceptions:\n"]
    size = len(parts[0])
    i = 0
    while True:
        text = entry.format(i=i)
        if size + len(text) >= yamlio.MAX_BYTES:
            break
        parts.append(text)
        size += len(text)
        i += 1
    return "".join(parts)


def best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def refused(text: str) -> Callable[[], None]:
    def run() -> None:
        try:
            yamlio.loads(text, "bomb.yaml")
        except ConfigError:
            return
        raise SystemExit("the bomb was accepted")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from ruamel.yaml import YAML

    policy = best(lambda: yamlio.loads(POLICY, "slsalint.yaml"), args.repeat)
    bomb = best(refused(laughs()), args.repeat)
    brackets = best(refused("a: " + "[" * 200_000 + "]" * 200_000), args.repeat)
    big = largest_exceptions()
    exceptions = best(lambda: yamlio.loads(big, "slsalint-exceptions.yaml"), args.repeat)
    nested = "a: " + "[" * 3_000 + "]" * 3_000
    ruamel = best(lambda: sum(1 for _ in YAML(typ="rt").parse(nested)), 1)
    print(f"realistic policy             {policy * 1000:9.2f} ms")
    print(f"billion laughs (refused)     {bomb * 1000:9.2f} ms  ({bomb / policy:.1f}x)")
    print(f"200 000 brackets (refused)   {brackets * 1000:9.2f} ms  ({brackets / policy:.1f}x)")
    print(f"1 MiB exceptions file        {exceptions * 1000:9.2f} ms  ({exceptions / policy:.1f}x)")
    print(f"ruamel alone, 3 000 brackets {ruamel * 1000:9.2f} ms  ({ruamel / policy:.1f}x)")
    print(
        json.dumps(
            {
                "benchmark": "config_bombs",
                "policy_seconds": round(policy, 6),
                "laughs_ratio": round(bomb / policy, 2),
                "brackets_ratio": round(brackets / policy, 2),
                "largest_exceptions_ratio": round(exceptions / policy, 2),
                "ruamel_brackets_3000_ratio": round(ruamel / policy, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
