"""Markdown for $GITHUB_STEP_SUMMARY: appended, under GitHub's 1 MiB limit, overview first."""

from __future__ import annotations

from pathlib import Path

from slsalint.model import Finding, Level, Platform, PlatformTarget, Report, Target, TargetResult
from slsalint.report import ReportOptions, render
from slsalint.report.markdown import STEP_SUMMARY_LIMIT, code, escape, prose
from tests.faults.catalogue import run
from tests.report.scenario import Gate, gate


def test_fleet_summary_has_the_overview_first(fleet: Gate) -> None:
    text = fleet.reports["markdown"].read_text(encoding="utf-8")
    assert text.startswith("## ❌ slsalint: policy violations")
    overview, details = text.index("### Overview"), text.index("### Details")
    assert overview < details
    head = text[overview:details]
    for image in ("oci:images/app", "oci:images/worker", "oci:images/example-package"):
        assert f"| `{image}` |" in head
    assert "| SL404 material-unpinned | 🔴 error | 6 | 0 | 1 |" in head
    assert "sha256:" not in head or all(len(w) <= 19 for w in head.split() if w.startswith("`sha256:"))
    assert "`slsalint explain`" in text  # commands in fix texts are code spans
    assert "\\-" not in text and "\\." not in text  # no backslash noise


def test_appends_to_the_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## Build\n\nbuilt 3 images\n", encoding="utf-8")
    first = gate(tmp_path / "repo", extra=("--format", f"markdown={summary}"), targets=("oci:images/app",))
    del first
    # The gate above also wrote out/slsalint.markdown; this run appends a second report.
    again = run("check", "oci:images/worker", "--format", f"markdown={summary}", cwd=tmp_path / "repo")
    assert again.code == 1, again.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Build\n\nbuilt 3 images\n")
    assert text.count("## ❌ slsalint") == 2
    assert text.index("oci:images/app") < text.index("oci:images/worker")


def _huge_report(findings: int) -> Report:
    platforms = [PlatformTarget("sha256:" + f"{i:064x}", Platform("linux", f"arch{i}")) for i in range(4)]
    target = Target("ghcr.io/acme/app:v1", "image", "sha256:" + "1" * 64, platforms)
    out = [
        Finding(
            "SL404",
            "material-unpinned",
            Level.ERROR,
            f"material pkg:docker/base{i}@latest has no digest " + "x" * 200,
            target.reference,
            platform=f"linux/arch{i % 4}",
            digest=platforms[i % 4].digest,
            remediation="pin it: `docker buildx build --build-arg BASE=image@sha256:...`",
        )
        for i in range(findings)
    ]
    return Report("0.1.0", [TargetResult(target, out)], [])


def test_stays_under_the_limit_with_a_truncation_note() -> None:
    text = render(_huge_report(20_000), "markdown")
    size = len(text.encode("utf-8"))
    assert size < STEP_SUMMARY_LIMIT
    assert size > STEP_SUMMARY_LIMIT // 2  # the budget is used, not thrown away
    assert "### Overview" in text and "| SL404 material-unpinned | 🔴 error | 20000 |" in text
    note = text.strip().splitlines()[-1]
    assert (
        note.startswith("_") and "findings left out to stay under GitHub's 1 MiB step-summary limit" in note
    )
    left = int(note.strip("_").split()[0])
    shown = sum(1 for line in text.splitlines() if line.startswith("| 🔴 error | SL404"))
    assert shown + left == 20_000


def test_budget_counts_what_the_file_already_holds(tmp_path: Path) -> None:
    small = render(_huge_report(20_000), "markdown", options=ReportOptions(markdown_budget=50_000))
    assert len(small.encode("utf-8")) < 50_000
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (STEP_SUMMARY_LIMIT - 60_000), encoding="utf-8")
    from slsalint.cli._common import Output
    from slsalint.cli.check import write_reports

    write_reports([Output("markdown", summary)], _huge_report(20_000), ReportOptions(), no_color=True)
    assert summary.stat().st_size < STEP_SUMMARY_LIMIT


def test_escaping_is_safe_and_quiet() -> None:
    assert escape("v1.2.3 (linux/amd64) a-b: c=d") == "v1.2.3 (linux/amd64) a-b: c=d"
    assert escape("<img src=x> & | `x` *b* _i_ [l](u) ~~s~~ @team") == (
        "&lt;img src=x&gt; &amp; \\| \\`x\\` \\*b\\* \\_i\\_ \\[l\\](u) \\~\\~s\\~\\~ \\@team"
    )
    assert escape("snake_case_name") == "snake_case_name"
    assert (
        escape("see https://evil.example and www.evil.example")
        == "see https\\://evil.example and www\\.evil.example"
    )
    assert escape("two\nlines") == "two<br>lines"
    assert code("a`b|c") == "``a`b\\|c``"
    assert prose("run `slsalint exceptions renew x.yaml` now <b>") == (
        "run `slsalint exceptions renew x.yaml` now &lt;b&gt;"
    )
    assert prose("digest sha256:" + "a" * 64) == "digest sha256:" + "a" * 12


def test_a_stopped_run_writes_an_error_block(tmp_path: Path) -> None:
    stopped = gate(tmp_path / "repo", extra=("--policy", "missing.yaml"))
    assert stopped.outcome.code == 2
    text = stopped.reports["markdown"].read_text(encoding="utf-8")
    assert text.startswith("## ⚠️ slsalint: could not check (exit 2)")
    assert "> **Configuration error:** missing.yaml: no such policy file" in text
