"""``slsalint check`` as a user runs it: a real subprocess, exit codes, stdout/stderr, output files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(ROOT)},
    )


def sarif_validator(corpus: Path) -> Any:
    import jsonschema

    schema_file = next((corpus / "schemas" / "sarif").glob("*.json"))
    schema = json.loads(schema_file.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def layout(corpus: Path, name: str) -> str:
    return f"oci:{corpus / 'oci-layouts' / name}"


def test_mode_max_layout_has_no_sl302(corpus: Path) -> None:
    result = run("check", layout(corpus, "example-package-v1.9.0-buildkit-max"), "--format", "json")
    report = json.loads(result.stdout)
    ids = {f["ruleId"] for t in report["targets"] for f in t["findings"]}
    assert "SL302" not in ids
    assert result.returncode == report["exitCode"]
    assert result.returncode == 0, result.stdout


def test_mode_min_layout_reports_sl302_and_exits_1(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.sarif"
    result = run(
        "check",
        layout(corpus, "example-package-v2.1.0-buildkit-min"),
        "--format",
        "text",
        "--format",
        f"sarif={out}",
    )
    assert result.returncode == 1, result.stderr
    assert "SL302" in result.stdout and "provenance-mode-min" in result.stdout
    assert "linux/amd64" in result.stdout
    assert "(exit 1)" in result.stdout
    sarif = json.loads(out.read_text())
    sarif_validator(corpus).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "SL302" and r["level"] == "error" for r in results)
    rule_ids = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert "SL302" in rule_ids and "SL101" in rule_ids


def test_several_images_in_one_run(corpus: Path, tmp_path: Path) -> None:
    maximal = layout(corpus, "example-package-v1.9.0-buildkit-max")
    minimal = layout(corpus, "example-package-v2.1.0-buildkit-min")
    out = tmp_path / "r.sarif"
    result = run("check", maximal, minimal, maximal, "--format", "json", "--format", f"sarif={out}")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [t["reference"] for t in report["targets"]] == [maximal, minimal]  # each image once
    codes = {t["reference"]: {f["ruleId"] for f in t["findings"]} for t in report["targets"]}
    assert "SL302" in codes[minimal] and "SL302" not in codes[maximal]
    sarif = json.loads(out.read_text())
    sarif_validator(corpus).validate(sarif)
    located = {
        loc["fullyQualifiedName"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"][0].get("logicalLocations", [])
    }
    assert any(minimal in name for name in located)
    # The passing image alone passes; an image that cannot be read stops the whole run.
    assert run("check", maximal).returncode == 0
    broken = run("check", maximal, "oci:" + str(tmp_path / "missing"))
    assert broken.returncode == 2 and "no such directory" in broken.stderr


@pytest.mark.parametrize(
    ("statement", "subject", "expected_ids", "code"),
    [
        (
            "buildkit/example-package-v1.9.0.provenance-v02-max.intoto.json",
            "sha256:7606c85a2e0bc3af20a2e0de046f4c97c275ba689a60fcc0140186acf852ffd3",
            set(),
            0,
        ),
        (
            "buildkit/example-package-v2.1.0.provenance-v02-min.intoto.json",
            "sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69",
            {"SL302", "SL303"},
            1,
        ),
        (
            "buildkit/github-builder-test.provenance-v1-max.linux_arm64.intoto.json",
            "sha256:870e0065de8226a0e5ba3f5ea3a29e5fe4f2ea6ed4b59b2f7a2b2ad43b59aa8b",
            None,
            None,
        ),
        (
            "buildkit/example-package-v1.9.0.provenance-v02-max.intoto.json",
            "sha256:" + "0" * 64,
            {"SL101", "SL103"},
            1,
        ),
    ],
)
def test_buildkit_statements_as_files(
    corpus: Path, statement: str, subject: str, expected_ids: set[str] | None, code: int | None
) -> None:
    path = corpus / statement
    if expected_ids is None:
        document = json.loads(path.read_text())
        subject = "sha256:" + document["subject"][0]["digest"]["sha256"]
        expected_ids, code = set(), 0
    result = run("check", "--attestation", str(path), "--subject", subject, "--format", "json")
    report = json.loads(result.stdout)
    ids = {f["ruleId"] for t in report["targets"] for f in t["findings"]}
    assert ids == expected_ids, result.stdout
    assert result.returncode == code


def test_every_format_to_files(corpus: Path, tmp_path: Path) -> None:
    target = layout(corpus, "example-package-v2.1.0-buildkit-min")
    args = ["check", target]
    for fmt in ("json", "sarif", "junit", "markdown", "text"):
        args += ["--format", f"{fmt}={tmp_path / ('r.' + fmt)}"]
    result = run(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    for fmt in ("json", "sarif", "junit", "markdown", "text"):
        assert (tmp_path / f"r.{fmt}").read_text().strip()


def test_fail_on_warning(corpus: Path) -> None:
    target = layout(corpus, "example-package-v2.1.0-buildkit-min")
    strict = run("check", target, "--disable", "SL302", "--format", "json")
    assert strict.returncode == 0, strict.stdout
    warned = run("check", target, "--disable", "SL302", "--fail-on", "warning", "--format", "json")
    assert warned.returncode == 1


BAD_INPUTS = [
    (b"{not json", "not valid JSON"),
    (
        b'{"payloadType": "application/vnd.in-toto+json", "payload": "%%%", "signatures": []}',
        "not valid base64",
    ),
    (b'{"hello": 1}', "not a DSSE envelope, Sigstore bundle or in-toto statement"),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUTS)
def test_bad_attestation_file_is_sl105(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    result = run("check", "--attestation", str(path), "--subject", "sha256:" + "1" * 64)
    assert result.returncode == 1
    assert "SL105" in result.stdout and message in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_schema_error_is_sl104_with_pointer(tmp_path: Path) -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "x", "digest": {"sha256": "1" * 64}}],
        "predicate": {"builder": {}, "buildType": "https://mobyproject.org/buildkit@v1"},
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(statement))
    result = run("check", "--attestation", str(path), "--subject", "sha256:" + "1" * 64, "--format", "json")
    assert result.returncode == 1
    findings = json.loads(result.stdout)["targets"][0]["findings"]
    sl104 = [f for f in findings if f["ruleId"] == "SL104"]
    assert sl104 and sl104[0]["pointer"] == "/predicate/builder"


def test_truncated_layout_and_digest_mismatch(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "layout"
    shutil.copytree(corpus / "oci-layouts" / "example-package-v2.1.0-buildkit-min", copy)
    blob = copy / "blobs/sha256/8d63b5e440cc7cfa68622b4a3cae2dbe215f8f8dcc9f2fa4ffd3078d40d61a84"
    blob.write_bytes(blob.read_bytes().replace(b"dockerfile.v0", b"dockerfile.v1"))
    result = run("check", f"oci:{copy}", "--format", "json")
    assert result.returncode == 1
    messages = [
        f["message"] for f in json.loads(result.stdout)["targets"][0]["findings"] if f["ruleId"] == "SL105"
    ]
    assert any("digest mismatch" in m for m in messages), messages
    (copy / "index.json").unlink()
    result = run("check", f"oci:{copy}")
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "index.json is missing" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["check"], 2, "nothing to check"),
        (["check", "oci:/nonexistent/dir"], 2, "no such directory"),
        (["check", "--attestation", "/nonexistent.json"], 2, "no such file"),
        (["check", "--attestation", "x.json", "--subject", "sha256:zz"], 2, "expected sha256"),
        (["check", "oci:.", "--format", "pdf"], 2, "unknown format"),
        (["check", "oci:.", "--platform", "linux"], 2, "invalid platform"),
        (["check", "oci:.", "--pack", "nope"], 2, "unknown pack"),
        (["check", "oci:.", "--fail-on", "fatal"], 2, "expected error, warning or note"),
        (["check", "registry.example/App:1"], 2, "malformed repository"),
        (["check", "registry.example/app:1", "--offline"], 2, "--offline cannot read a registry"),
        (["check", "--bogus-flag"], 2, "no such option --bogus-flag; see `slsalint check --help`"),
    ],
)
def test_usage_errors_exit_2(args: list[str], code: int, message: str, tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_errors_name_file_and_line(tmp_path: Path, corpus: Path) -> None:
    target = layout(corpus, "example-package-v1.9.0-buildkit-max")
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrules:\n  SL301:\n    allowed-builders: nope\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2
    assert f"{policy}:3" in result.stderr and "allowed-builders" in result.stderr
    policy.write_text("version: 1\nrules:\n  SL999: {}\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "unknown rule 'SL999'" in result.stderr
    policy.write_text("version: 1\npacks: [recommended\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "invalid YAML" in result.stderr
    policy.write_text("version: 2\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "/version" in result.stderr
    policy.write_text("version: 1\npacks:\n  - recommended\n  - slsa-build-l4\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2
    assert (
        f"{policy}:4: unknown pack 'slsa-build-l4' (did you mean slsa-build-l2 or slsa-build-l3?); "
        "available: docker-scout"
    ) in result.stderr


def test_policy_options_apply_and_default_policy_is_found(tmp_path: Path, corpus: Path) -> None:
    target = layout(corpus, "example-package-v1.9.0-buildkit-max")
    (tmp_path / "slsalint.yaml").write_text(
        "version: 1\nrules:\n  SL301:\n    allowed-builders: ['https://github.com/nobody/*']\n"
    )
    result = run("check", target, "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    ids = {f["ruleId"] for t in json.loads(result.stdout)["targets"] for f in t["findings"]}
    assert "SL301" in ids


def test_text_output_escapes_untrusted_builder_id(tmp_path: Path) -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "x", "digest": {"sha256": "1" * 64}}],
        "predicate": {"builder": {"id": "[bold red]evil[/]\x1b[2J"}, "buildType": "https://example.com/b"},
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(statement))
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  SL301: {allowed-builders: ['https://ok/*']}\n")
    result = run(
        "check", "--attestation", str(path), "--subject", "sha256:" + "1" * 64, "--policy", str(policy)
    )
    assert result.returncode == 1
    assert "\x1b" not in result.stdout
    assert "[bold red]evil[/]" in result.stdout


def test_internal_error_exit_4_without_traceback(tmp_path: Path) -> None:
    env_code = (
        "import sys; import slsalint.engine as e\n"
        "def boom(*a, **k): raise RuntimeError('kaboom')\n"
        "e.lint = boom\n"
        "from slsalint.cli import main\n"
        "sys.argv=['slsalint','check','--attestation','x.json']\n"
        "main()\n"
    )
    (tmp_path / "x.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-c", env_code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 4
    assert "internal error" in result.stderr and "kaboom" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("slsalint ")
    result = run("check", "--help")
    assert result.returncode == 0 and "--attestation" in result.stdout


def test_rules_list_and_show() -> None:
    listing = run("rules", "list", "--json")
    assert listing.returncode == 0
    rules = json.loads(listing.stdout)
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids)
    for expected in [
        "SL101",
        "SL103",
        "SL104",
        "SL105",
        "SL106",
        "SL301",
        "SL302",
        "SL303",
        "SL401",
        "SL402",
        "SL403",
        "SL404",
        "SL501",
    ]:
        assert expected in ids
    shown = run("rules", "show", "provenance-mode-min")
    assert shown.returncode == 0 and "mode=max" in shown.stdout and "SL302" in shown.stdout
    assert run("rules", "show", "SL999").returncode == 2
