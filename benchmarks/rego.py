"""Rego speed: the platform-team pack through slsalint, against the built-in checks, before and after.

On one core (the process is pinned to one CPU), over N BuildKit SLSA v0.2 mode=max statements
(default 2,000; every third has a base image from an unlisted registry), read and bound to targets
once, the script times

  (a) the built-in checks of the ``recommended`` pack through ``run_checks`` (one target at a time);
  (b) the platform-team pack (PLT001-PLT003) through ``RegoRuntime.findings``, as ``slsalint check``
      runs it: one input document per attestation, handed to the engine once, every rule on it;
  (c) start-up: loading, checking and probing 50, 100 and 200 generated rules (linear means the
      200-rule time is about 4x the 50-rule one);
  (d) one provenance statement of about 20 MB (materials) through the platform-team pack;
  (e) before: the same pack through the previous engine (regopy in a worker process, the code of
      the commit named by ``--before-commit``), when that commit and regopy can be had: regopy is
      installed into a temporary directory with pip. ``--no-before`` skips it.

Each measurement runs ``--repeat`` times; the best run counts. Targets: >= 2,000 documents/s
through slsalint, start-up for 50 rules under 1 s and linear, the 20 MB provenance under 2 s. The
last line is JSON:
{"benchmark": "rego", "documents": N, "builtin_per_second": ..., "rego_per_second": ...,
"rego_to_builtin_ratio": ..., "before_per_second": ..., "speedup": ..., "startup_50_rules_s": ...,
"startup_linearity": ..., "provenance_20mb_s": ..., "targets_met": {...}}

    python benchmarks/rego.py [--count N] [--repeat R] [--no-before] [--before-commit REV]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint.engine import build_target, run_checks  # noqa: E402
from slsalint.model import Target  # noqa: E402
from slsalint.policy import Policy, plan_rules  # noqa: E402
from slsalint.rego import RegoOptions, RegoSource, load_rules, open_engine, open_rego  # noqa: E402
from slsalint.rego.runtime import RegoRuntime  # noqa: E402
from slsalint.sources.files import collect_files  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402

PACK = "platform-team"
BEFORE_COMMIT = "71e7150"
"""The last commit with the regopy engine (slsalint/rego.py in one file)."""
BEFORE_ENGINE = "regopy==1.5.2"

# Run under the previous code (cwd: a checkout of BEFORE_COMMIT): prints documents/s.
_BEFORE_SCRIPT = r"""
import json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, ".")
sys.path.insert(1, sys.argv[3])
from benchmarks.rego import generate
from slsalint.rego import RegoRuntime, load_rules, open_engine, pack_sources
count = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    targets = generate(Path(tmp), count)
    ruleset = load_rules(pack_sources([sys.argv[2]]))
    engine, broken = open_engine(ruleset.modules, ruleset.rules, timeout=60)
    assert broken is None, broken
    runtime = RegoRuntime(ruleset, ruleset.rules, engine, None)
    def clock():
        # the previous engine works in a child process: count its CPU time too (once reaped)
        if "--wall" in sys.argv:
            return time.perf_counter()
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    started = clock()
    found = [f for t in targets for f in runtime.findings(t)]
    runtime.close()
    seconds = clock() - started
print(json.dumps({"documents": count, "seconds": seconds, "findings": len(found),
                  "errors": sum(1 for f in found if f.rule_id == "SL904")}))
"""


def generate(directory: Path, count: int, *, materials_per_statement: int = 0) -> list[Target]:
    targets = []
    for n in range(count):
        subject = f"sha256:{bk.fake_hex('rego-bench', str(n))}"
        materials = None
        if n % 3 == 0 or materials_per_statement:
            hexpart = bk.fake_hex("bench-base", str(n))
            materials = [
                {
                    "uri": f"pkg:docker/mirror{n % 5}.example.com/golang@1.22?digest=sha256:{hexpart}",
                    "digest": {"sha256": hexpart},
                },
                *bk.buildkit_materials(),
            ]
            for extra in range(materials_per_statement):
                digest = bk.fake_hex("bulk", str(extra))
                materials.append(
                    {"uri": f"pkg:generic/dependency-{extra}@1.0.{extra}", "digest": {"sha256": digest}}
                )
        statement = bk.buildkit_v02_statement(
            subject, commit=bk.fake_hex("commit", str(n))[:40], materials=materials
        )
        path = directory / f"{n:05d}.intoto.json"
        path.write_bytes(bk.statement_bytes(statement))
        targets.append(build_target(collect_files([path], subject=subject)))
    return targets


CLOCK = time.process_time
"""The clock measurements use: CPU seconds of this process (``--wall`` for elapsed time). On one
core, CPU time is what a document costs; unlike elapsed time it does not count the time the core
spent on other processes of a busy machine."""


def best_of(repeat: int, func: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        started = CLOCK()
        result = func()
        best = min(best, CLOCK() - started)
    return best, result


def pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        return "not pinned"
    return f"cpu {cpu}"


def rules_directory(directory: Path, count: int) -> Path:
    """``count`` deny rules in ``count // 10`` modules (10 per module), each with its own id."""
    directory.mkdir(parents=True)
    for m in range(max(1, count // 10)):
        body = [f"package bench.m{m}\n\nimport rego.v1\n"]
        for r in range(10):
            number = m * 10 + r
            body.append(
                f"# METADATA\n# custom:\n#   id: BEN{number:03d}\n"
                f"deny contains msg if {{\n\tsome material in input.provenance.materials\n"
                f'\tstartswith(material.uri, "pkg:docker/blocked{number}.example.com/")\n'
                f'\tmsg := sprintf("material %s is blocked by rule {number}", [material.uri])\n}}\n'
            )
        (directory / f"m{m}.rego").write_text("\n".join(body), encoding="utf-8")
    return directory


def startup(directory: Path, count: int, repeat: int) -> float:
    rules = rules_directory(directory / f"rules-{count}", count)

    def once() -> int:
        ruleset = load_rules([RegoSource(rules)])
        opened = open_engine(ruleset.modules, ruleset.rules)
        opened.close()
        return len(ruleset.rules)

    seconds, loaded = best_of(repeat, once)
    assert loaded == count, loaded
    return seconds


def before(count: int, commit: str) -> dict[str, object]:
    """Documents/s of the previous engine (see the module docstring), or why it is not known."""
    with tempfile.TemporaryDirectory(prefix="slsalint-rego-before-") as tmp:
        tree, engine = Path(tmp) / "tree", Path(tmp) / "engine"
        made = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            return {"error": f"commit {commit} is not available: {made.stderr.strip()[:200]}"}
        try:
            pip = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(engine), BEFORE_ENGINE],
                capture_output=True,
                text=True,
                check=False,
            )
            if pip.returncode != 0:
                return {"error": f"{BEFORE_ENGINE} cannot be installed: {pip.stderr.strip()[-200:]}"}
            env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{engine}")
            run = subprocess.run(
                [sys.executable, "-c", _BEFORE_SCRIPT, str(count), PACK, str(engine)]
                + (["--wall"] if CLOCK is time.perf_counter else []),
                capture_output=True,
                text=True,
                cwd=tree,
                env=env,
                check=False,
                timeout=1800,
            )
            if run.returncode != 0:
                return {"error": f"the previous engine failed: {run.stderr.strip()[-300:]}"}
            result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
            return result
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
                check=False,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before-count", type=int, default=200)
    parser.add_argument("--before-commit", default=BEFORE_COMMIT)
    parser.add_argument("--no-before", action="store_true")
    parser.add_argument("--wall", action="store_true", help="Measure elapsed time, not CPU time.")
    args = parser.parse_args(argv)
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    core = pin_one_core()

    with tempfile.TemporaryDirectory(prefix="slsalint-rego-bench-") as tmp:
        work = Path(tmp)
        (work / "docs").mkdir()
        targets = generate(work / "docs", args.count)
        documents = sum(len(p.attestations) for t in targets for p in t.platforms)
        policy = Policy()
        planned, _ = plan_rules(policy, packs=["recommended"])
        runtime, _, _ = open_rego(RegoOptions(policy=policy, packs=[PACK]))
        assert isinstance(runtime, RegoRuntime)
        try:

            def builtin() -> int:
                return sum(len(run_checks(t, planned)) for t in targets)

            def rego() -> int:
                found = [f for t in targets for f in runtime.findings(t)]
                assert not [f for f in found if f.rule_id == "SL904"], [f.message for f in found[:3]]
                return len(found)

            builtin_time, builtin_found = best_of(args.repeat, builtin)
            rego_time, rego_found = best_of(args.repeat, rego)
            (work / "big").mkdir()
            [big] = generate(work / "big", 1, materials_per_statement=142_000)
            size = sum(len(json.dumps(a.statement)) for p in big.platforms for a in p.attestations)
            big_time, big_found = best_of(args.repeat, lambda: len(runtime.findings(big)))
        finally:
            runtime.close()
        starts = {n: startup(work, n, args.repeat) for n in (50, 100, 200)}
    previous = before(args.before_count, args.before_commit) if not args.no_before else {"error": "skipped"}
    before_rate = None
    if isinstance(previous.get("seconds"), float) and isinstance(previous.get("documents"), int):
        before_rate = round(previous["documents"] / previous["seconds"], 1)  # type: ignore[operator]
    rate = round(documents / rego_time, 1)
    result = {
        "benchmark": "rego",
        "core": core,
        "clock": "wall" if args.wall else "cpu",
        "documents": documents,
        "builtin_findings": builtin_found,
        "rego_findings": rego_found,
        "builtin_per_second": round(documents / builtin_time, 1),
        "rego_per_second": rate,
        "rego_to_builtin_ratio": round(builtin_time / rego_time, 3),
        "before_engine": BEFORE_ENGINE,
        "before_per_second": before_rate,
        "before_error": previous.get("error"),
        "speedup": round(rate / before_rate, 1) if before_rate else None,
        "startup_50_rules_s": round(starts[50], 3),
        "startup_100_rules_s": round(starts[100], 3),
        "startup_200_rules_s": round(starts[200], 3),
        "startup_linearity": round(starts[200] / starts[50] / 4, 2),
        "provenance_bytes": size,
        "provenance_findings": big_found,
        "provenance_20mb_s": round(big_time, 3),
    }
    result["targets_met"] = {
        "rego_per_second>=2000": rate >= 2000,
        "startup_50_rules<1s": starts[50] < 1.0,
        "startup_linear": 0.5 <= starts[200] / starts[50] / 4 <= 1.5,
        "provenance_20mb<2s": big_time < 2.0,
    }
    print(
        f"{documents} documents on one core ({core}), {result['clock']} time\n"
        f"  built-in checks (recommended): {result['builtin_per_second']:>10,.1f} documents/s\n"
        f"  Rego, platform-team pack     : {rate:>10,.1f} documents/s"
        f"  ({result['rego_to_builtin_ratio']} of built-in)\n"
        f"  Rego before ({BEFORE_ENGINE})  : {before_rate or previous.get('error')}\n"
        f"  start-up 50/100/200 rules    : {starts[50]:.3f} / {starts[100]:.3f} / {starts[200]:.3f} s\n"
        f"  {size / 1e6:.1f} MB provenance        : {big_time:.3f} s"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
