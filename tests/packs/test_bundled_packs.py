"""The bundled packs of SPEC §4 on real provenance: slsa-build-l2, slsa-build-l3, github-actions
(docker-scout and recommended are covered with the rules they run)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.policy import Policy, available_packs, load_pack, plan_rules

ROOT = Path(__file__).resolve().parents[2]
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GENERATOR = "^https://github\\.com/slsa-framework/slsa-github-generator/"
KEYLESS = ["--certificate-oidc-issuer", GITHUB_ISSUER, "--certificate-identity-regexp", GENERATOR]


def check(*args: str, cwd: Path = ROOT) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", *args, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd)},
    )
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, report, result.stderr


def ids(report: dict[str, Any]) -> set[str]:
    return {f["ruleId"] for t in report["targets"] for f in t["findings"] if not f.get("waived")}


def generator_file(corpus: Path, name: str) -> tuple[str, str]:
    """A slsa-github-generator corpus file and the digest of its first subject."""
    path = corpus / "slsa-github-generator" / name
    line = json.loads(path.read_text().splitlines()[0])
    envelope = line.get("dsseEnvelope", line)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    return str(path), "sha256:" + statement["subject"][0]["digest"]["sha256"]


def test_spec_packs_are_shipped_and_valid() -> None:
    assert {"recommended", "docker-scout", "slsa-build-l2", "slsa-build-l3", "github-actions"} <= set(
        available_packs()
    )
    for name in ("slsa-build-l2", "slsa-build-l3", "github-actions"):
        pack = load_pack(name)
        planned, _ = plan_rules(Policy(), packs=[name])
        rules = {rule.check.id: rule for rule in planned}
        assert rules["SL201"].options == {"require-signers": True}, name
        assert {"SL101", "SL103", "SL202", "SL203", "SL204"} <= set(rules), name
        assert pack.description


@pytest.mark.parametrize("pack", ["slsa-build-l2", "slsa-build-l3", "github-actions"])
def test_no_signer_configured_fails_the_signed_packs(corpus: Path, pack: str) -> None:
    path, subject = generator_file(corpus, "gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl")
    code, report, _ = check("-a", path, "--subject", subject, "--pack", pack)
    assert code == 1
    [finding] = [f for t in report["targets"] for f in t["findings"]]
    assert finding["ruleId"] == "SL201"
    assert "no signer is configured" in finding["message"]
    assert "--certificate-identity" in finding["remediation"]
    # The same file under the default pack has nothing to say about signers.
    code, report, _ = check("-a", path, "--subject", subject)
    assert code == 0, report


@pytest.mark.parametrize("pack", ["slsa-build-l2", "slsa-build-l3", "github-actions"])
def test_generator_provenance_passes_with_its_signer(corpus: Path, pack: str) -> None:
    path, subject = generator_file(corpus, "gha_generic-v2.1.0.workflow_dispatch.bundle-v0.3.intoto.jsonl")
    code, report, stderr = check("-a", path, "--subject", subject, "--pack", pack, *KEYLESS)
    assert code == 0, (report, stderr)
    assert ids(report) == set()


def test_l3_rejects_a_forked_builder(corpus: Path) -> None:
    path, subject = generator_file(corpus, "FAIL-untrusted-builder.dsse-legacy.intoto.jsonl")
    code, report, _ = check("-a", path, "--subject", subject, "--pack", "slsa-build-l3", *KEYLESS)
    assert code == 1
    assert "SL301" in ids(report)
    [sl301] = [f for t in report["targets"] for f in t["findings"] if f["ruleId"] == "SL301"]
    assert "asraa/slsa-github-generator" in sl301["message"]
    # L2 does not judge the builder: the fork is caught there by its missing log entry only.
    code, report, _ = check("-a", path, "--subject", subject, "--pack", "slsa-build-l2", *KEYLESS)
    assert code == 1
    assert "SL301" not in ids(report)
    assert "SL204" in ids(report)


def test_l3_trusts_a_delegated_builder_only_once_the_policy_names_it(corpus: Path, tmp_path: Path) -> None:
    # builder.id names the trusted reusable workflow, not the generator that signed it (SOURCES.md).
    path, subject = generator_file(corpus, "delegator-v2.1.0.workflow_dispatch.bundle-v0.2.slsa-v1.json")
    code, report, _ = check("-a", path, "--subject", subject, "--pack", "slsa-build-l3", *KEYLESS)
    assert code == 1
    assert ids(report) == {"SL301"}
    policy = tmp_path / "slsalint.yaml"
    policy.write_text(
        "version: 1\n"
        "packs: [slsa-build-l3]\n"
        "rules:\n"
        "  SL301:\n"
        "    allowed-builders:\n"
        '      - "https://github.com/slsa-framework/example-trw/.github/workflows/*_slsa3.yml@refs/tags/v*"\n'
    )
    code, report, stderr = check("-a", path, "--subject", subject, "--policy", str(policy), *KEYLESS)
    assert code == 0, (report, stderr)


def test_github_actions_pack_on_an_image_built_in_a_workflow(corpus: Path) -> None:
    # v1.9.0: BuildKit provenance from a GitHub Actions run (builder .../actions/runs/N, mode=max)
    # plus a cosign .att signed by the SLSA generator's container workflow.
    layout = f"oci:{corpus / 'oci-layouts' / 'example-package-v1.9.0-buildkit-max'}"
    code, report, stderr = check(layout, "--pack", "github-actions", *KEYLESS)
    assert code == 0, (report, stderr)
    other = [
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        "--certificate-identity-regexp",
        "^https://github\\.com/microcks/",
    ]
    code, report, _ = check(layout, "--pack", "github-actions", *other)
    assert code == 1
    assert ids(report) == {"SL203"}
    # v2.1.0 from the same project is mode=min: SL302 under this pack.
    layout = f"oci:{corpus / 'oci-layouts' / 'example-package-v2.1.0-buildkit-min'}"
    code, report, _ = check(layout, "--pack", "github-actions", *KEYLESS)
    assert code == 1
    assert "SL302" in ids(report)


def test_require_signers_must_be_a_boolean(tmp_path: Path) -> None:
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrules:\n  SL201: {require-signers: yes please}\n")
    code, _, stderr = check("--subject", "sha256:" + "0" * 64, "-a", str(policy), "--policy", str(policy))
    assert code == 2
    assert "SL201" in stderr and "require-signers" in stderr


@pytest.mark.parametrize(
    ("builder", "trusted"),
    [
        ("https://github.com/example/app/actions/runs/1", True),
        ("https://github.com/actions/runner/github-hosted", True),
        ("https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.0.0", True),
        ("https://gitlab.com/example/app/-/runners/42", False),
        ("https://github.com.evil.example/example/app/actions/runs/1", False),
        ("", False),
    ],
)
def test_github_actions_pack_accepts_only_github_builders(
    tmp_path: Path, builder: str, trusted: bool
) -> None:
    from tests.support import buildkit as bk

    subject = "sha256:" + bk.fake_hex("packs", builder)
    statement = tmp_path / "provenance.intoto.json"
    statement.write_bytes(bk.statement_bytes(bk.buildkit_v02_statement(subject, builder_id=builder)))
    code, report, _ = check(
        "-a", str(statement), "--subject", subject, "--pack", "github-actions", "--disable", "SL201"
    )
    found = ids(report)
    assert ("SL301" not in found) is trusted, report
    if not builder:
        assert "SL303" in found
    assert code == (0 if trusted else 1)


def test_a_pack_edited_during_a_process_is_read_again(tmp_path: Path) -> None:
    pack = tmp_path / "team" / "pack.yaml"
    pack.parent.mkdir()
    pack.write_text('name: team\nversion: "1"\ndescription: d\nrules:\n  SL101: {}\n')
    first = load_pack("team", rules_dir=tmp_path)
    assert set(first.rules) == {"SL101"}
    first.rules.clear()  # callers get their own copy
    assert set(load_pack("team", rules_dir=tmp_path).rules) == {"SL101"}
    pack.write_text('name: team\nversion: "2"\ndescription: d\nrules:\n  SL101: {}\n  SL302: {}\n')
    again = load_pack("team", rules_dir=tmp_path)
    assert again.version == "2" and set(again.rules) == {"SL101", "SL302"}
