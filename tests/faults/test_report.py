"""Fault catalogue rows for report destinations and report flags: each is exit 2 with one line
naming the path or flag, before anything is read, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.catalogue import Fault, assert_fault, ids, run

LAYOUT = "oci:" + str(
    Path(__file__).resolve().parents[1]
    / "assets"
    / "corpus"
    / "oci-layouts"
    / "example-package-v2.1.0-buildkit-min"
)

ROWS: list[tuple[Fault, tuple[str, ...]]] = [
    (
        Fault(
            "output-under-a-file",
            2,
            r"^slsalint: error: file/x: cannot write report: .*/file is not a directory$",
        ),
        ("check", LAYOUT, "-o", "file/x"),
    ),
    (
        Fault(
            "output-deep-under-a-file", 2, r"file/a/b\.sarif: cannot write report: .*/file is not a directory"
        ),
        ("check", LAYOUT, "--format", "sarif=file/a/b.sarif"),
    ),
    (
        Fault("output-is-a-directory", 2, r"^slsalint: error: dir: is a directory, not a report file$"),
        ("check", LAYOUT, "-o", "dir"),
    ),
    (
        Fault("format-path-is-a-directory", 2, r"dir: is a directory"),
        ("check", LAYOUT, "--format", "junit=dir"),
    ),
    (
        Fault("markdown-under-a-file", 2, r"file/summary\.md: cannot write report"),
        ("check", LAYOUT, "--format", "markdown=file/summary.md"),
    ),
    (
        Fault("format-without-path", 2, r"--format sarif=: missing path after '='"),
        ("check", LAYOUT, "--format", "sarif="),
    ),
    (
        Fault("two-formats-one-file", 2, r"out: named as the destination of two formats"),
        ("check", LAYOUT, "-f", "json=out", "-f", "sarif=./out"),
    ),
    (
        Fault("explain-output-under-a-file", 2, r"file/x: cannot write report: .* is not a directory"),
        ("explain", LAYOUT, "-o", "file/x"),
    ),
    (
        Fault("sarif-root-missing", 2, r"--sarif-root missing: not a directory"),
        ("check", LAYOUT, "--sarif-root", "missing"),
    ),
    (
        Fault("sarif-category-empty", 2, r"--sarif-category: must not be empty"),
        ("check", LAYOUT, "--sarif-category", " "),
    ),
    (
        Fault("docs-url-not-http", 2, r"--docs-url ftp://x: expected an http\(s\) URL"),
        ("check", LAYOUT, "--docs-url", "ftp://x"),
    ),
    (
        Fault("sarif-anchor-outside-root", 2, r"--sarif-anchor /etc/hosts: outside the SARIF root"),
        ("check", LAYOUT, "--format", "sarif=out.sarif", "--sarif-anchor", "/etc/hosts"),
    ),
]


@pytest.mark.parametrize(("fault", "args"), ROWS, ids=ids([f for f, _ in ROWS]))
def test_report_destination_faults(tmp_path: Path, fault: Fault, args: tuple[str, ...]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "file").write_text("not a directory\n", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    outcome = run(*args, cwd=tmp_path)
    assert_fault(fault, outcome)
    assert outcome.stdout == ""  # nothing was checked, nothing printed
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # and nothing written
