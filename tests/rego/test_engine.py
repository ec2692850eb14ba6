"""The engine as slsalint runs it: no environment for policies, bounded time (compilation too), and
helper processes (the worker, the watchdog) that never outlive slsalint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slsalint.rego.protocol import EngineModule
from slsalint.rego.regorus_engine import RegorusEngine, engine_message
from tests.rego.conftest import ROOT, findings, image_layout, run, write_rego

ENV_RULE = """\
package leak

import rego.v1

# METADATA
# custom:
#   id: LEAK001
deny contains msg if {
	msg := sprintf("runtime: %v", [opa.runtime()])
}

# METADATA
# custom:
#   id: LEAK002
deny contains msg if {
	some name, value in opa.runtime().env
	msg := sprintf("%s=%s", [name, value])
}
"""

SLOW_RULE = """\
package slow

import rego.v1

# METADATA
# custom:
#   id: TMO001
deny contains "never" if {
	count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) < 0
}
"""


def nested_module(levels: int = 8, count: int = 100) -> str:
    """A module that takes long to compile within the nesting bound: ``count`` constants of nested
    object and array literals (``levels`` deep; 8 levels nest 12 braces and brackets)."""
    value = "1"
    for level in range(levels):
        value = f'{{"k{level}": [{value}, 2], "z": 3}}' if level % 2 else f'[{value}, "a"]'
    constants = "".join(f"nested{n} := {value}\n\n" for n in range(count))
    return (
        f"package slowparse\n\nimport rego.v1\n\n{constants}"
        '# METADATA\n# custom:\n#   id: PARSE001\ndeny contains "x" if count(nested0) < 0\n'
    )


@pytest.mark.parametrize("isolation", ["in-process", "worker"])
def test_policies_see_no_environment(tmp_path: Path, isolation: str) -> None:
    write_rego(tmp_path / "rules", "leak.rego", ENV_RULE)
    result = run(
        "check",
        image_layout(tmp_path / "image"),
        "--rego",
        str(tmp_path / "rules"),
        "--rego-isolation",
        isolation,
        "--format",
        "json",
        env={"SLSALINT_TEST_SECRET": "hunter2-token", "GITHUB_TOKEN": "ghp_notreal"},
    )
    assert result.returncode == 1, result.stderr
    assert "hunter2" not in result.stdout and "ghp_notreal" not in result.stdout
    messages = [f["message"] for f in findings(result) if f["ruleId"].startswith("LEAK")]
    assert messages == ["runtime: {}"]


def test_engine_errors_are_one_line_with_the_location() -> None:
    engine = RegorusEngine()
    engine.load([EngineModule("p.rego", "package p\n\nx := 1 / input.n\n")])
    (outcome,) = engine.evaluate('{"n": 0}', ["data.p.x"])
    assert outcome.error == "p.rego:3:8: divide by zero"
    location, message = engine_message("\n--> a.rego:2:3\n  |\nerror: boom\n\nStack backtrace:\n  0: x\n")
    assert location is not None and (location.module, location.line, location.column) == ("a.rego", 2, 3)
    assert message == "boom"


def test_a_slow_module_is_bounded_by_the_timeout_in_the_worker(tmp_path: Path) -> None:
    write_rego(tmp_path / "rules", "slow.rego", nested_module())
    target = image_layout(tmp_path / "image")
    args = ["check", target, "--rego", str(tmp_path / "rules"), "--rego-timeout", "0.1"]
    started = time.monotonic()
    worker = run(*args, "--rego-isolation", "worker", "--format", "json")
    assert time.monotonic() - started < 60
    assert worker.returncode == 1, worker.stderr
    [error] = [f for f in findings(worker) if f["ruleId"] == "SL904"]
    assert "PARSE001" in error["message"] and "did not finish within 0.1s" in error["message"]
    assert "compiling the Rego module" in error["message"]

    stopped = run(*args)
    assert stopped.returncode == 3
    assert stopped.stderr.startswith("slsalint: error: compiling the Rego module ")
    assert "did not finish within 0.1s" in stopped.stderr and stopped.stderr.count("\n") == 1


def test_a_slow_rule_in_process_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    write_rego(tmp_path / "rules", "slow.rego", SLOW_RULE)
    started = time.monotonic()
    result = run(
        "check", image_layout(tmp_path / "image"), "--rego", str(tmp_path / "rules"), "--rego-timeout", "1"
    )
    assert time.monotonic() - started < 60
    assert result.returncode == 3
    assert result.stderr.startswith("slsalint: error: Rego rule TMO001 (`deny` in ")
    assert "did not finish within 1s" in result.stderr and result.stdout == ""


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_child(parent: subprocess.Popen[bytes], marker: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in children(parent.pid):
            if marker in command_line(pid):
                return pid
        assert parent.poll() is None, "slsalint ended before its helper started"
        time.sleep(0.05)
    raise AssertionError(f"no child process with {marker!r}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("isolation", "marker", "how"),
    [
        ("worker", "slsalint.rego.worker", signal.SIGTERM),
        ("worker", "slsalint.rego.worker", signal.SIGKILL),
        ("worker", "slsalint.rego.worker", signal.SIGINT),
        ("in-process", "-I -S -c", signal.SIGKILL),
        ("in-process", "-I -S -c", signal.SIGTERM),
    ],
    ids=["worker-sigterm", "worker-sigkill", "worker-ctrl-c", "watchdog-sigkill", "watchdog-sigterm"],
)
def test_helper_processes_die_with_slsalint(
    tmp_path: Path, isolation: str, marker: str, how: signal.Signals
) -> None:
    write_rego(tmp_path / "rules", "slow.rego", SLOW_RULE.replace("100000", "10000000"))
    target = image_layout(tmp_path / "image")
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(ROOT), "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [
            *(sys.executable, "-m", "slsalint", "check", target, "--rego", str(tmp_path / "rules")),
            *("--rego-timeout", "300", "--rego-isolation", isolation),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        helper = wait_for_child(parent, marker)
        time.sleep(0.3)  # the helper is running (the worker: evaluating the slow rule)
        if how is signal.SIGINT:
            os.killpg(parent.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        else:
            os.kill(parent.pid, how)
        parent.wait(timeout=60)
        deadline = time.monotonic() + 10
        while alive(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(helper), f"{command_line(helper)} outlived slsalint ({how.name})"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_run_the_watchdog_stops_still_writes_every_requested_report(tmp_path: Path) -> None:
    """Exit 3 writes the reports as any stopped run does: JSON and SARIF files and JSON on stdout
    say the run could not judge; the text report on stdout is left out (stderr says it)."""
    import json as _json

    write_rego(tmp_path / "rules", "slow.rego", SLOW_RULE)
    out_json, out_sarif = tmp_path / "out.json", tmp_path / "out.sarif"
    out_json.write_text("stale")
    result = run(
        "check", image_layout(tmp_path / "image"), "--rego", str(tmp_path / "rules"), "--rego-timeout", "1",
        "--format", f"json={out_json}", "--format", f"sarif={out_sarif}", "--format", "json",
        "--sarif-root", str(tmp_path),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("slsalint: error: Rego rule TMO001 (`deny` in ")
    written = _json.loads(out_json.read_text())
    assert written["exitCode"] == 3 and written["error"]["kind"] == "operational"
    assert "--rego-timeout" in written["error"]["message"] and written["targets"] == []
    assert _json.loads(result.stdout)["error"] == written["error"]
    [sarif_run] = _json.loads(out_sarif.read_text())["runs"]
    assert sarif_run["invocations"][0]["executionSuccessful"] is False
    assert not list(tmp_path.glob("*.stopped.tmp"))
