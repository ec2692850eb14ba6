"""Rego rules as a user meets them: ``check --rego``, policy ``rego:``, packs, ``rules``, ``packs test``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for

from tests.rego.conftest import (
    ORG001_MODULE,
    PACK,
    findings,
    image_layout,
    run,
    untrusted_materials,
    write_rego,
)


@pytest.fixture
def org_rules(tmp_path: Path) -> Path:
    write_rego(tmp_path / "policies", "images.rego", ORG001_MODULE)
    return tmp_path / "policies"


def test_deny_with_custom_id_is_an_active_finding_in_sarif(
    tmp_path: Path, org_rules: Path, sarif_schema: dict[str, Any]
) -> None:
    target = image_layout(tmp_path / "image", materials=untrusted_materials())
    sarif_path = tmp_path / "out.sarif"
    result = run(
        "check", target, "--rego", str(org_rules), "--format", f"sarif={sarif_path}", "--format", "json"
    )
    assert result.returncode == 1, result.stderr
    org = [f for f in findings(result) if f["ruleId"] == "ORG001"]
    assert len(org) == 1 and org[0]["level"] == "error" and org[0]["waived"] is False
    assert org[0]["message"].startswith("base image pkg:docker/evil.example.com/mirror/golang@1.22")
    assert org[0]["platform"] == "linux/amd64" and org[0]["source"].startswith(
        "buildkit-attestation-manifest"
    )

    sarif = json.loads(sarif_path.read_text())
    cls = validator_for(sarif_schema)
    errors = [e.message for e in cls(sarif_schema, format_checker=cls.FORMAT_CHECKER).iter_errors(sarif)]
    assert errors == []
    run_ = sarif["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert rules["ORG001"]["name"] == "base-images-from-the-company-registry"
    assert rules["ORG001"]["shortDescription"]["text"] == "Base images from the company registry"
    assert rules["ORG001"]["defaultConfiguration"]["level"] == "error"
    [result_] = [r for r in run_["results"] if r["ruleId"] == "ORG001"]
    assert result_["level"] == "error" and "suppressions" not in result_
    assert run_["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == "ORG001"
    assert run_["invocations"][0]["exitCode"] == 1


def test_passing_image_is_quiet(tmp_path: Path, org_rules: Path) -> None:
    allowed = [
        {
            "uri": "pkg:docker/registry.example.com/base/golang@1.22?platform=linux%2Famd64",
            "digest": {"sha256": "a" * 64},
        }
    ]
    target = image_layout(tmp_path / "image", materials=allowed)
    result = run("check", target, "--rego", str(org_rules), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert findings(result) == []
    assert "ORG001" in {r["id"] for r in json.loads(result.stdout)["rules"]}
    text = run("check", target, "--rego", str(org_rules))
    assert text.returncode == 0 and "no findings" in text.stdout and "ORG001" not in text.stdout


def test_every_platform_is_evaluated(tmp_path: Path, org_rules: Path) -> None:
    from tests.rego.conftest import AMD64, ARM64

    target = image_layout(tmp_path / "image", materials=untrusted_materials(), platforms=(AMD64, ARM64))
    result = run("check", target, "--rego", str(org_rules), "--format", "json")
    assert sorted(f["platform"] for f in findings(result) if f["ruleId"] == "ORG001") == [
        "linux/amd64",
        "linux/arm64",
    ]
    only = run("check", target, "--rego", str(org_rules), "--platform", "linux/arm64", "--format", "json")
    assert [f["platform"] for f in findings(only) if f["ruleId"] == "ORG001"] == ["linux/arm64"]


def test_disable_a_rego_rule_by_id_or_name(tmp_path: Path, org_rules: Path) -> None:
    target = image_layout(tmp_path / "image", materials=untrusted_materials())
    for key in ("ORG001", "base-images-from-the-company-registry"):
        result = run("check", target, "--rego", str(org_rules), "--disable", key, "--format", "json")
        assert result.returncode == 0, result.stdout
        assert "ORG001" not in {r["id"] for r in json.loads(result.stdout)["rules"]}


def test_syntax_error_exits_2_naming_the_file(tmp_path: Path, org_rules: Path) -> None:
    broken = ORG001_MODULE.replace(
        'not startswith(material.uri, "pkg:docker/registry.example.com/")', "not ("
    )
    (org_rules / "images.rego").write_text(broken)
    target = image_layout(tmp_path / "image")
    result = run("check", target, "--rego", str(org_rules))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{org_rules / 'images.rego'}:14:9: Rego syntax error: expecting `)`" in result.stderr
    assert result.stderr.count("\n") == 1


def test_rule_without_id_exits_2(tmp_path: Path, org_rules: Path) -> None:
    (org_rules / "images.rego").write_text(ORG001_MODULE.replace("#   id: ORG001\n", "#   owner: me\n"))
    result = run("check", image_layout(tmp_path / "image"), "--rego", str(org_rules))
    assert result.returncode == 2
    assert f"{org_rules / 'images.rego'}:10: rule `deny` has no id" in result.stderr


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('crypto.x509.parse_certificates("")', "`crypto.x509.parse_certificates` is neither defined"),
        ('http.send({"method": "get", "url": "http://127.0.0.1:9"})', "`http.send` is not available"),
    ],
)
def test_function_a_policy_cannot_call_exits_2(
    tmp_path: Path, org_rules: Path, call: str, message: str
) -> None:
    """A built-in the engine lacks would make the rule fail on every input; http.send would reach
    the network: both are refused when the modules load."""
    (org_rules / "images.rego").write_text(
        ORG001_MODULE.replace("some material in", f"{call}\n\tsome material in")
    )
    result = run("check", image_layout(tmp_path / "image"), "--rego", str(org_rules))
    assert result.returncode == 2
    assert f"{org_rules / 'images.rego'}:11: {message}" in result.stderr


def test_missing_rego_directory_exits_2(tmp_path: Path) -> None:
    result = run("check", image_layout(tmp_path / "image"), "--rego", str(tmp_path / "nope"))
    assert result.returncode == 2 and "no such file or directory" in result.stderr


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("crash:ORG001", "the Rego worker crashed (killed by SIGSEGV)"),
        ("hang:ORG001", "did not finish within 1s"),
        ("garbage:ORG001", "not the protocol"),
    ],
)
def test_engine_failure_is_sl904_and_the_gate_fails(
    tmp_path: Path, org_rules: Path, fault: str, expected: str
) -> None:
    target = image_layout(tmp_path / "image")  # passes ORG001 when the engine works
    result = run(
        "check",
        target,
        "--rego",
        str(org_rules),
        "--rego-timeout",
        "1",
        "--rego-isolation",
        "worker",
        "--format",
        "json",
        env={"SLSALINT_REGO_WORKER_FAULT": fault},
    )
    assert result.returncode == 1, result.stderr
    [error] = [f for f in findings(result) if f["ruleId"] == "SL904"]
    assert error["level"] == "error"
    assert (
        f"Rego rule ORG001 (`deny` in {org_rules / 'images.rego'}:10) failed to evaluate" in error["message"]
    )
    assert expected in error["message"]
    assert error["platform"] == "linux/amd64"


@pytest.mark.parametrize("isolation", ["in-process", "worker"])
def test_deeply_nested_rule_output_is_a_one_line_sl904(tmp_path: Path, isolation: str) -> None:
    rules = tmp_path / "rules"
    deep = "[" * 80 + "1" + "]" * 80
    write_rego(
        rules,
        "deep.rego",
        "package acme\n\nimport rego.v1\n\n# METADATA\n# custom:\n#   id: ACME001\n"
        f'deny contains {{"msg": "deep", "actual": json.unmarshal("{deep}")}} if input.image\n',
    )
    target = image_layout(tmp_path / "image")
    result = run("check", target, "--rego", str(rules), "--rego-isolation", isolation, "--format", "json")
    assert result.returncode == 1, result.stderr
    [error] = findings(result)
    assert error["ruleId"] == "SL904"
    assert "failed to evaluate: the result nests deeper than 64 levels" in error["message"]
    assert "\n" not in error["message"]


def test_policy_rego_key_and_pack_rego_files(tmp_path: Path, org_rules: Path) -> None:
    target = image_layout(tmp_path / "image", materials=untrusted_materials())
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrego: [policies/]\n")
    result = run("check", target, "--policy", str(policy), "--format", "json")
    assert result.returncode == 1
    assert "ORG001" in {f["ruleId"] for f in findings(result)}
    policy.write_text("version: 1\nrego:\n  - missing/\n")
    bad = run("check", target, "--policy", str(policy))
    assert bad.returncode == 2 and f"{policy}:3: rego: missing/: no such file or directory" in bad.stderr

    bundled = run("check", target, "--pack", "platform-team", "--format", "json")
    ids = {f["ruleId"] for f in findings(bundled)}
    assert "PLT001" in ids and bundled.returncode == 1
    assert {"PLT001", "PLT002", "PLT003", "SL404"} <= {r["id"] for r in json.loads(bundled.stdout)["rules"]}
    both = run("check", target, "--pack", "platform-team", "--rego", str(org_rules), "--format", "json")
    assert both.returncode == 1 and {"ORG001", "PLT001"} <= {f["ruleId"] for f in findings(both)}


def test_rules_list_and_show_include_rego_rules(org_rules: Path) -> None:
    listed = run("rules", "list", "--json")
    assert listed.returncode == 0
    by_id = {r["id"]: r for r in json.loads(listed.stdout)}
    assert by_id["PLT001"]["packs"] == ["platform-team"]
    assert by_id["PLT001"]["source"] == "rules/platform-team/base_images.rego:37"
    assert by_id["PLT003"]["level"] == "warning" and by_id["SL302"]["source"] == "built-in"
    assert "ORG001" not in by_id
    shown = run("rules", "show", "PLT002")
    assert shown.returncode == 0
    assert "required-build-arguments" in shown.stdout and "How to fix." in shown.stdout
    extra = run("rules", "show", "base-images-from-the-company-registry", "--rego", str(org_rules))
    assert extra.returncode == 0
    assert extra.stdout.startswith("ORG001 base-images-from-the-company-registry (default level: error)")
    assert "must come from registry.example.com" in extra.stdout
    with_extra = run("rules", "list", "--json", "--rego", str(org_rules))
    [org] = [r for r in json.loads(with_extra.stdout) if r["id"] == "ORG001"]
    assert org["packs"] == [] and org["source"].endswith("images.rego:10")
    duplicate = org_rules / "copy.rego"
    duplicate.write_text(ORG001_MODULE.replace("org.images", "org.copy"))
    clash = run("rules", "list", "--rego", str(org_rules))
    assert clash.returncode == 2 and "duplicate rule id ORG001" in clash.stderr
    missing = run("rules", "show", "ORG404")
    assert missing.returncode == 2 and "unknown rule" in missing.stderr


def test_packs_test_passes_and_fails(tmp_path: Path) -> None:
    passing = run("packs", "test", str(PACK))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "PASS  test_untrusted_registry_is_denied" in passing.stdout
    assert passing.stdout.splitlines()[-1].startswith("10 passed, 0 failed in ")

    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    test_file = pack / "base_images_test.rego"
    test_file.write_text(
        test_file.read_text().replace(
            'result.actual == "evil.example.com/mirror/golang"', 'result.actual == "somewhere.else/golang"'
        )
    )
    failing = run("packs", "test", str(pack))
    assert failing.returncode == 1
    assert "FAIL  test_untrusted_registry_is_denied" in failing.stdout
    assert "base_images_test.rego:24: undefined" in failing.stdout
    assert failing.stdout.splitlines()[-1].startswith("9 passed, 1 failed in ")

    test_file.write_text("package platform.base_images_test\n\ntest_x if {\n  1 +* 2\n}\n")
    broken = run("packs", "test", str(pack))
    assert broken.returncode == 2 and "base_images_test.rego:4:" in broken.stderr

    empty = tmp_path / "empty"
    write_rego(empty, "m.rego", ORG001_MODULE)
    none = run("packs", "test", str(empty))
    assert none.returncode == 2 and "no *_test.rego files" in none.stderr


def test_packs_test_reports_engine_failures_as_errors(tmp_path: Path) -> None:
    result = run(
        "packs", "test", str(PACK), "--isolation", "worker", env={"SLSALINT_REGO_WORKER_FAULT": "crash:PLT"}
    )
    # the fault hook only fires while evaluating the labelled rules of a check, so tests still run
    assert result.returncode == 0, result.stdout
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    (pack / "slow_test.rego").write_text(
        "package slow_test\n\nimport rego.v1\n\ntest_forever if {\n"
        "\tcount({x | some x in numbers.range(1, 1000); some y in numbers.range(1, 1000); x > y}) > 0\n}\n"
        "\ntest_quick if true\n"
    )
    slow = run("packs", "test", str(pack), "--timeout", "1", "--isolation", "worker")
    assert slow.returncode == 1
    assert "ERROR test_forever" in slow.stdout and "did not finish within 1s" in slow.stdout
    assert "PASS  test_quick" in slow.stdout
    assert "11 passed, 0 failed, 1 error" in slow.stdout
    # In-process, the engine cannot be interrupted: the watchdog stops the run (exit 3, one line).
    stopped = run("packs", "test", str(pack), "--timeout", "1")
    assert stopped.returncode == 3
    assert stopped.stderr.startswith(
        "slsalint: error: the Rego query data.slow_test.test_forever did not finish"
    )


def test_packs_list(tmp_path: Path) -> None:
    result = run("packs", "list", "--json")
    assert result.returncode == 0
    packs = {p["name"]: p for p in json.loads(result.stdout)}
    assert packs["platform-team"]["rego"] == [
        "rules/platform-team/base_images.rego",
        "rules/platform-team/build_args.rego",
    ]


def test_policy_rules_relevel_and_disable_rego_rules(tmp_path: Path, org_rules: Path) -> None:
    target = image_layout(tmp_path / "image", materials=untrusted_materials())
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrego: [policies/]\nrules:\n  ORG001: {level: warning}\n")
    result = run("check", target, "--policy", str(policy), "--format", "json")
    assert result.returncode == 0, result.stdout
    [org] = [f for f in findings(result) if f["ruleId"] == "ORG001"]
    assert org["level"] == "warning"
    assert {r["id"]: r["level"] for r in json.loads(result.stdout)["rules"]}["ORG001"] == "warning"
    failing = run("check", target, "--policy", str(policy), "--fail-on", "warning", "--format", "json")
    assert failing.returncode == 1

    policy.write_text(
        "version: 1\nrego: [policies/]\nrules:\n  base-images-from-the-company-registry: {level: off}\n"
    )
    result = run("check", target, "--policy", str(policy), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert "ORG001" not in {r["id"] for r in json.loads(result.stdout)["rules"]}
    # --enable on the command line wins over the file, as for built-in rules.
    result = run("check", target, "--policy", str(policy), "--enable", "ORG001", "--format", "json")
    assert result.returncode == 1
    assert "ORG001" in {f["ruleId"] for f in findings(result)}


def test_policy_rules_naming_no_loaded_rule_exit_2(tmp_path: Path, org_rules: Path) -> None:
    target = image_layout(tmp_path / "image")
    policy = tmp_path / "slsalint.yaml"
    policy.write_text("version: 1\nrules:\n  SL101: {}\n  ORG002: {level: warning}\n")
    result = run("check", target, "--policy", str(policy), "--rego", str(org_rules))
    assert result.returncode == 2
    assert f"{policy}:4: unknown rule 'ORG002'" in result.stderr
    assert "Traceback" not in result.stderr
    # Without any Rego rules loaded it is just as unknown.
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "unknown rule 'ORG002'" in result.stderr
    policy.write_text("version: 1\nrego: [policies/]\nrules:\n  ORG001: {allowed: [x]}\n")
    result = run("check", target, "--policy", str(policy))
    assert (
        result.returncode == 2 and "rule ORG001 takes no options, only a level (got allowed)" in result.stderr
    )
    policy.write_text("version: 1\nrules:\n  SL999: {level: warning}\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "unknown rule 'SL999'" in result.stderr
    policy.write_text("version: 1\nrules:\n  SL904: {level: off}\n")
    result = run("check", target, "--policy", str(policy))
    assert result.returncode == 2 and "SL904 (rule-error) cannot be configured" in result.stderr


def test_rules_list_with_a_policy_shows_what_a_check_runs(tmp_path: Path, org_rules: Path) -> None:
    policy = tmp_path / "slsalint.yaml"
    policy.write_text(
        "version: 1\n"
        "packs: [slsa-build-l3, platform-team]\n"
        "rego: [policies/]\n"
        "rules:\n"
        '  SL301: {allowed-builders: ["https://github.com/org/*"]}\n'
        "  PLT003: {level: off}\n"
        "  ORG001: {level: warning}\n"
        "  SL404: {level: error}\n"
    )
    listed = run("rules", "list", "--policy", str(policy), "--json")
    assert listed.returncode == 0, listed.stderr
    by_id = {r["id"]: r for r in json.loads(listed.stdout)}
    assert by_id["SL301"]["options"] == {"allowed-builders": ["https://github.com/org/*"]}
    assert by_id["SL201"]["options"] == {"require-signers": True}
    assert by_id["SL404"]["level"] == "error" and by_id["SL404"]["packs"] == [
        "platform-team",
        "slsa-build-l3",
    ]
    assert by_id["ORG001"]["level"] == "warning" and by_id["PLT001"]["packs"] == ["platform-team"]
    assert "PLT003" not in by_id and "SL302" not in by_id and "SL102" not in by_id
    assert "SL904" in by_id and "SL902" not in by_id  # no exceptions file: no exception notes
    text = run("rules", "list", "--policy", str(policy), env={"COLUMNS": "250"})
    assert text.returncode == 0 and '{"allowed-builders":["https://github.com/org/*"]}' in text.stdout
    scout = run("rules", "list", "--pack", "docker-scout", "--json")
    assert {r["id"] for r in json.loads(scout.stdout)} == {"SL101", "SL102", "SL105", "SL302", "SL904"}
    policy.write_text("version: 1\nrules:\n  ORG009: {level: off}\n")
    bad = run("rules", "list", "--policy", str(policy))
    assert bad.returncode == 2 and f"{policy}:3: unknown rule 'ORG009'" in bad.stderr


def test_a_pack_written_for_conftest_works_unchanged(tmp_path: Path) -> None:
    """deny/warn with # METADATA in `package main`, tests with `with input as`: `check --rego` and
    `packs test` take it as it is (tests/rego/test_opa_conformance.py runs its tests under OPA)."""
    user_pack = Path(__file__).parent / "user_pack"
    tests = run("packs", "test", str(user_pack))
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert tests.stdout.splitlines()[-1].startswith("4 passed, 0 failed in ")
    assert tests.stderr == ""  # no deprecation note: no custom.input

    target = image_layout(tmp_path / "image", materials=untrusted_materials())
    result = run("check", target, "--rego", str(user_pack / "policy"), "--format", "json")
    assert result.returncode == 1, result.stderr
    got = {(f["ruleId"], f["level"]) for f in findings(result) if f["ruleId"].startswith("ACME")}
    assert got == {("ACME001", "error")}
    [denied] = [f for f in findings(result) if f["ruleId"] == "ACME001"]
    assert denied["message"].startswith("base image pkg:docker/evil.example.com/mirror/golang@1.22")
    rules = {r["id"]: r for r in json.loads(result.stdout)["rules"]}
    assert rules["ACME001"]["name"] == "images-come-from-the-company-registry"
    assert rules["ACME002"]["level"] == "warning"


def test_custom_input_still_works_and_is_deprecated(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    write_rego(pack, "m.rego", ORG001_MODULE)
    (pack / "testdata").mkdir()
    (pack / "testdata" / "bad.json").write_text(
        json.dumps({"provenance": {"materials": [{"uri": "pkg:docker/evil.example.com/x@1"}]}})
    )
    write_rego(
        pack,
        "m_test.rego",
        "package org.images_test\n\nimport rego.v1\n\nimport data.org.images\n\n"
        "# METADATA\n# custom:\n#   input: testdata/bad.json\ntest_denied if count(images.deny) == 1\n\n"
        '# METADATA\n# custom:\n#   input: {"provenance": {"materials": []}}\n'
        "test_clean if count(images.deny) == 0\n",
    )
    result = run("packs", "test", str(pack))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 passed, 0 failed in ")
    assert result.stderr.startswith("slsalint: note: `custom.input` in a test's # METADATA is deprecated")
