"""The text report and the terminal: the fixes of the CI-gate issue, seen as a user sees them."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from slsalint.cli._common import Progress, use_color
from tests.faults.catalogue import run
from tests.report.scenario import Gate

CORPUS = Path(__file__).resolve().parents[1] / "assets" / "corpus"
BUNDLE = CORPUS / "slsa-github-generator" / "gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"TERM": "dumb"}, False),
        ({"NO_COLOR": "1"}, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ],
)
def test_colour_only_on_a_capable_terminal(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for name in ("TERM", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_color(_Tty()) is expected
    assert use_color(io.StringIO()) is bool(env.get("FORCE_COLOR"))


def test_progress_names_the_current_target_and_counts_requests() -> None:
    progress = Progress("3 images")
    progress.target(2, 3, "ghcr.io/acme/worker:v1")
    progress.update(37)
    assert progress._line().plain == "reading 2/3 ghcr.io/acme/worker:v1: 37 requests"
    progress.target(1, 1, "oci:build/\x1b[31mx")
    assert progress._line().plain.startswith("reading oci:build/\\x1b[31mx")


def test_the_engine_reports_each_target_to_the_progress_line(tmp_path: Path) -> None:
    from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint

    layout = f"oci:{CORPUS / 'oci-layouts' / 'example-package-v2.1.0-buildkit-min'}"
    seen: list[tuple[int, int, str]] = []
    settings = RegistrySettings(progress_target=lambda n, count, ref: seen.append((n, count, ref)))
    other = f"oci:{CORPUS / 'oci-layouts' / 'example-package-v1.9.0-buildkit-max'}"
    lint([LintRequest(target=layout), LintRequest(target=other)], LintOptions(registry=settings))
    assert seen == [(1, 2, layout), (2, 2, other)]


def test_fleet_text_fits_80_columns_with_short_digests(fleet: Gate) -> None:
    outcome = run("check", "oci:images/app", "oci:images/worker", cwd=fleet.root, env={"COLUMNS": "80"})
    assert outcome.code == 1
    lines = outcome.stdout.splitlines()
    for line in lines:
        if len(line) > 80:  # only a single word that cannot be broken (a long reference)
            assert " " not in line.strip(), line
    assert not re.search(r"sha256:[0-9a-f]{13,}", outcome.stdout)
    assert "\x1b" not in outcome.stdout  # not a terminal: no colour


def test_attestation_files_read_as_attestation_files(tmp_path: Path) -> None:
    subject = "sha256:" + hashlib.sha256(b"some artifact").hexdigest()
    outcome = run("check", "--attestation", BUNDLE, "--subject", subject, cwd=tmp_path)
    assert outcome.code == 1
    out = outcome.stdout
    assert "artifact artifact" not in out
    assert out.splitlines()[2] == f"artifact {subject[:19]}"
    assert "names another subject: provenance slsa-github-generator" in out
    body = out.split("\n\n")[1]
    assert "no findings" not in body  # never after (or among) findings
    assert "pass that attestation with --attestation" in out  # SL101's fix for files
    assert "push attestations with the image" not in out
    assert "slsalint explain" not in out  # explain reads images, not files
    assert "not this artifact" in out


def test_a_statement_with_200000_subjects_gives_a_bounded_report(tmp_path: Path) -> None:
    subjects = [
        {"name": f"pkg{i}", "digest": {"sha256": hashlib.sha256(str(i).encode()).hexdigest()}}
        for i in range(200_000)
    ]
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": subjects,
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {"builder": {"id": "https://example.com/builder"}, "buildType": "x"},
    }
    path = tmp_path / "big.intoto.json"
    path.write_text(json.dumps(statement), encoding="utf-8")
    subject = "sha256:" + hashlib.sha256(b"another").hexdigest()
    outcome = run(
        "check", "--attestation", path, "--subject", subject, "--format", "text", cwd=tmp_path, timeout=300
    )
    assert outcome.code == 1
    assert len(outcome.stdout) < 20_000  # 200,000 digests are not printed
    assert "and 199,997 more" in outcome.stdout
    assert "… 199,980 more" in outcome.stdout
