"""SARIF as GitHub code scanning ingests it, checked with the real validators.

- the official SARIF 2.1.0 schema and the copy github/codeql-action's upload validates with;
- the Microsoft SARIF Multitool's ``validate`` with GitHub's rule kind (``--rule-kind Gh;Sarif``);
- the rules of github/codeql-action v4's upload code (``src/upload-lib.ts``, ``src/fingerprints.ts``):
  ``automationDetails.id`` (the category; it takes precedence over the action's input, and one
  category per upload), ``partialFingerprints.primaryLocationLineHash`` (kept when present, else
  computed from the located line's text), locations resolved as files below the checkout (no
  scheme, nothing outside the source root), and code scanning's limits;
- the fingerprint rebuild test.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft4Validator

from slsalint.report._common import DOCS_URL
from tests.report.conftest import CI_ASSETS, ROOT
from tests.report.scenario import POLICY, Gate, gate

MAX_RUNS, MAX_RESULTS, MAX_RULES, MAX_TAGS, MAX_LOCATIONS = 20, 25_000, 25_000, 20, 1_000


def schema_errors(doc: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def multitool_errors(multitool: Path, sarif: Path, tmp: Path) -> list[tuple[str, str, str]]:
    """Errors and warnings of ``Sarif.Multitool validate --rule-kind Gh;Sarif`` (rule, level, where)."""
    out = tmp / f"{sarif.stem}.validation.sarif"
    result = subprocess.run(
        [
            str(multitool),
            "validate",
            str(sarif),
            "--rule-kind",
            "Gh;Sarif",
            "-o",
            str(out),
            "--log",
            "ForceOverwrite",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    return [
        (r["ruleId"], r.get("level", "warning"), ",".join(r["message"].get("arguments", [])[:1]))
        for run in log["runs"]
        for r in run.get("results", [])
        if r.get("level", "warning") in ("error", "warning")
    ]


def github_upload_problems(doc: dict[str, Any], checkout: Path) -> list[str]:
    """What github/codeql-action's upload would reject or mishandle in ``doc`` (see module doc)."""
    problems = []
    runs = doc.get("runs", [])
    if len(runs) > MAX_RUNS:
        problems.append(f"{len(runs)} runs (limit {MAX_RUNS})")
    categories = Counter(
        (run.get("automationDetails", {}).get("id"), run["tool"]["driver"]["name"]) for run in runs
    )
    problems += [f"category {c} used by {n} runs of one upload" for c, n in categories.items() if n > 1]
    for run in runs:
        category = run.get("automationDetails", {}).get("id")
        if not category or not category.endswith("/"):
            problems.append(f"automationDetails.id {category!r}: not set the way the upload sets it")
        rules = run["tool"]["driver"].get("rules", [])
        if len(rules) > MAX_RULES:
            problems.append(f"{len(rules)} rules")
        problems += [
            f"rule {r['id']}: {len(r['properties']['tags'])} tags"
            for r in rules
            if len(r.get("properties", {}).get("tags", [])) > MAX_TAGS
        ]
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"{len(results)} results")
        hashes = Counter(r.get("partialFingerprints", {}).get("primaryLocationLineHash") for r in results)
        problems += [
            f"primaryLocationLineHash {h} shared by {n} results (alerts merge)"
            for h, n in hashes.items()
            if n > 1 or h is None
        ]
        texts = Counter(r["message"]["text"] for r in results)
        problems += [f"{n} results share the message {t[:60]!r}" for t, n in texts.items() if n > 1]
        for number, result in enumerate(results):
            locations = result.get("locations", [])
            if not locations or len(locations) > MAX_LOCATIONS:
                problems.append(f"results[{number}]: {len(locations)} locations")
                continue
            physical = locations[0].get("physicalLocation")
            if physical is None:
                problems.append(f"results[{number}]: no physical location")
                continue
            uri = unquote(physical["artifactLocation"]["uri"])
            if "://" in uri or uri.startswith("/") or ".." in uri.split("/"):
                problems.append(f"results[{number}]: uri {uri!r} does not resolve below the checkout")
            elif not (checkout / uri).is_file():
                problems.append(f"results[{number}]: uri {uri!r} names no file of the checkout")
            if physical["artifactLocation"].get("uriBaseId") != "%SRCROOT%":
                problems.append(f"results[{number}]: uriBaseId is not %SRCROOT%")
            if not isinstance(physical.get("region", {}).get("startLine"), int):
                problems.append(f"results[{number}]: no region.startLine")
    return problems


def test_the_github_rules_catch_what_they_are_for() -> None:
    """The checks above fail on the shapes code scanning mishandles (the helper can fail)."""
    doc = {
        "runs": [
            {
                "tool": {"driver": {"name": "slsalint", "rules": []}},
                "automationDetails": {"id": "slsalint"},
                "results": [
                    {
                        "message": {"text": "same"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "../x"},
                                    "region": {"startLine": 1},
                                }
                            }
                        ],
                    },
                    {"message": {"text": "same"}, "locations": [{"logicalLocations": [{"name": "x"}]}]},
                ],
            }
        ]
    }
    problems = github_upload_problems(doc, ROOT)
    assert any("automationDetails.id" in p for p in problems)
    assert any("alerts merge" in p for p in problems)
    assert any("share the message" in p for p in problems)
    assert any("does not resolve" in p for p in problems)
    assert any("no physical location" in p for p in problems)


def test_sarif_of_a_fleet_passes_the_schemas_the_multitool_and_the_upload_rules(
    fleet: Gate, multitool: Path, sarif_schema: dict[str, Any], tmp_path: Path
) -> None:
    doc = fleet.sarif
    assert schema_errors(doc, sarif_schema) == []
    codeql_schema = json.loads(
        (CI_ASSETS / "codeql-action.sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    assert schema_errors(doc, codeql_schema) == []
    assert multitool_errors(multitool, fleet.reports["sarif"], tmp_path) == []
    assert github_upload_problems(doc, fleet.root) == []
    (run,) = doc["runs"]
    assert run["automationDetails"]["id"] == "slsalint/images/app+images/example-package+images/worker/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == fleet.root.as_uri() + "/"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_the_multitool_rejects_what_github_rejects(fleet: Gate, multitool: Path, tmp_path: Path) -> None:
    """The same validator fails a log whose results lack what GitHub requires."""
    doc = fleet.sarif
    for result in doc["runs"][0]["results"]:
        del result["locations"]
        del result["partialFingerprints"]
    broken = tmp_path / "broken.sarif"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    rules = {rule for rule, level, _ in multitool_errors(multitool, broken, tmp_path) if level == "error"}
    assert "GH1015" in rules  # GitHub: every result needs locations and partialFingerprints


def _located(fleet: Gate) -> dict[tuple[str, str | None, str], tuple[str, str]]:
    """(rule, platform, image) -> (file, text of the located line)."""
    out = {}
    for result in fleet.sarif["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        path = fleet.root / unquote(physical["artifactLocation"]["uri"])
        line = path.read_text(encoding="utf-8").splitlines()[physical["region"]["startLine"] - 1]
        key = (result["ruleId"], result["properties"].get("platform"), result["properties"]["image"])
        out[key] = (path.name, line.strip())
    return out


def test_results_sit_on_the_line_a_user_can_act_on(fleet: Gate) -> None:
    located = _located(fleet)
    # the rules: entry that configured the rule
    assert located[("SL302", "linux/amd64", "oci:images/example-package")] == (
        "slsalint.yaml",
        "SL302: {level: error}",
    )
    assert located[("SL404", "linux/arm64", "oci:images/app")] == ("slsalint.yaml", "SL404: {level: error}")
    # the packs: entry that enabled it
    assert located[("SL303", "linux/amd64", "oci:images/example-package")] == (
        "slsalint.yaml",
        "- recommended",
    )
    # what a component expects: its source: line
    assert located[("SL401", "linux/amd64", "oci:images/app")] == (
        "slsalint.yaml",
        "source: https://github.com/acme/app",
    )
    # SL901-SL903: the exceptions entry
    assert located[("SL903", None, "oci:images/worker")] == ("slsalint-exceptions.yaml", "- rule: SL101")
    assert located[("SL902", None, "oci:images/app")] == ("slsalint-exceptions.yaml", "- rule: SL501")


def test_messages_name_image_and_platform_and_waivers_are_suppressions(fleet: Gate) -> None:
    results = fleet.sarif["runs"][0]["results"]
    for result in results:
        platform = result["properties"].get("platform")
        text = result["message"]["text"]
        assert f"image {result['properties']['image']}" in text
        if platform:
            assert f"platform {platform}" in text
    waived = [r for r in results if r.get("suppressions")]
    assert [r["ruleId"] for r in waived] == ["SL101"]
    (suppression,) = waived[0]["suppressions"]
    assert suppression["kind"] == "external"
    assert "owner: release-team@example.com, ticket: ACME-1234" in suppression["justification"]


def test_help_links_resolve_and_can_be_rebased(tmp_path: Path, fleet: Gate) -> None:
    rules = fleet.sarif["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["helpUri"] == f"{DOCS_URL}/rules/{rule['id']}.md"
        assert (ROOT / "docs" / "rules" / f"{rule['id']}.md").is_file()  # the page the link shows
    rebased = gate(tmp_path / "repo", extra=("--docs-url", "https://docs.example.com/slsalint/"))
    assert {r["helpUri"] for r in rebased.sarif["runs"][0]["tool"]["driver"]["rules"]} == {
        f"https://docs.example.com/slsalint/rules/{r['id']}.md" for r in rules
    }


def test_rego_rules_carry_no_installation_paths(tmp_path: Path) -> None:
    from slsalint.resources import RULES_DIR

    result = gate(tmp_path / "repo", extra=("--pack", "platform-team"))
    assert result.outcome.code in (0, 1), result.outcome.stderr
    text = result.reports["sarif"].read_text(encoding="utf-8")
    rego_rules = [
        r for r in result.sarif["runs"][0]["tool"]["driver"]["rules"] if not r["id"].startswith("SL")
    ]
    assert rego_rules
    assert str(RULES_DIR.resolve()) not in text
    assert "site-packages" not in text
    assert any("rules/platform-team/" in r["help"]["text"] for r in rego_rules)


def test_matrix_jobs_get_distinct_categories(tmp_path: Path) -> None:
    """Two jobs of a matrix (one image each, or one platform each) upload to different categories;
    the same job run again uploads to the same one."""
    app = gate(tmp_path / "a", targets=("oci:images/app",))
    worker = gate(tmp_path / "b", targets=("oci:images/worker",))
    amd64 = gate(tmp_path / "c", targets=("oci:images/app",), extra=("--platform", "linux/amd64"))
    again = gate(tmp_path / "d", targets=("oci:images/app",), build="2")
    named = gate(tmp_path / "e", targets=("oci:images/app",), extra=("--sarif-category", "provenance/app"))

    def category(g: Gate) -> str:
        value: str = g.sarif["runs"][0]["automationDetails"]["id"]
        return value

    assert len({category(app), category(worker), category(amd64)}) == 3
    assert category(again) == category(app)
    assert category(named) == "provenance/app/"


def test_fingerprints_survive_a_rebuild_and_tell_findings_apart(tmp_path: Path) -> None:
    """Two builds that differ only in digests give identical fingerprints; a different finding gives
    a different one."""
    first = gate(tmp_path / "first", build="1")
    second = gate(tmp_path / "second", build="2")
    digests = [
        {t["indexDigest"] for t in g.json()["targets"] if t["reference"] != "oci:images/example-package"}
        for g in (first, second)
    ]
    assert digests[0].isdisjoint(digests[1])  # every rebuilt index has a new digest

    def fingerprints(g: Gate) -> dict[str, str]:
        return {
            r["partialFingerprints"]["primaryLocationLineHash"]: r["ruleId"]
            for r in g.sarif["runs"][0]["results"]
        }

    assert fingerprints(first) == fingerprints(second)
    assert len(fingerprints(first)) == len(first.sarif["runs"][0]["results"])  # all distinct
    json_fingerprints = {f["fingerprint"] for t in first.json()["targets"] for f in t["findings"]}
    assert {h.split(":")[0] for h in fingerprints(first)} == json_fingerprints

    # A different finding: the app's provenance names yet another source repository.
    rerun = gate(tmp_path / "changed", build="1", policy=POLICY.replace("acme/app\n", "acme/app-v2\n"))
    before = set(fingerprints(first).values())
    after = fingerprints(rerun)
    sl401_before = {h for h, r in fingerprints(first).items() if r == "SL401"}
    sl401_after = {h for h, r in after.items() if r == "SL401"}
    assert sl401_before and sl401_after and sl401_before.isdisjoint(sl401_after)
    assert {h for h, r in after.items() if r == "SL404"} == {
        h for h, r in fingerprints(first).items() if r == "SL404"
    }
    assert "SL401" in before


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("--policy", "missing.yaml"), 2, "configuration-error"),
        (("127.0.0.1:1/acme/app:v1",), 3, "operational-error"),
    ],
)
def test_a_stopped_run_still_writes_a_valid_sarif(
    tmp_path: Path,
    multitool: Path,
    sarif_schema: dict[str, Any],
    args: tuple[str, ...],
    code: int,
    kind: str,
) -> None:
    targets: tuple[str, ...] = tuple(a for a in args if not a.startswith("-") and ":" in a) or (
        "oci:images/app",
    )
    extra = tuple(a for a in args if a not in targets)
    stopped = gate(tmp_path / "repo", targets=targets, extra=extra)
    assert stopped.outcome.code == code, stopped.outcome.stderr
    doc = stopped.sarif
    assert schema_errors(doc, sarif_schema) == []
    assert multitool_errors(multitool, stopped.reports["sarif"], tmp_path) == []
    (run,) = doc["runs"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == code
    (note, *_) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"]["id"] == kind
    assert stopped.outcome.first_line.removeprefix("slsalint: error: ") in note["message"]["text"]
    assert run["results"] == []  # code scanning records a failed analysis; no alert is closed
    # the category is the one a successful run of the same job uses
    ok = gate(tmp_path / "ok", targets=("oci:images/app",))
    if code == 2:
        assert run["automationDetails"] == ok.sarif["runs"][0]["automationDetails"]


def test_sanitizes_builtin_and_rego_messages_alike() -> None:
    from slsalint.model import Finding, Level, Report, Target, TargetResult
    from slsalint.report import render

    target = Target(reference="ghcr.io/acme/app:v1", kind="image", index_digest=None, platforms=[])
    hostile = "zero\u200bwidth bidi\u202e tag\U000e0041 esc\x1b literal \\x1b"
    findings = [
        Finding("SL301", "builder-untrusted", Level.ERROR, hostile, target.reference),
        Finding("ORG001", "org-rule", Level.ERROR, hostile, target.reference, source="rego"),
    ]
    doc = json.loads(render(Report("0.1.0", [TargetResult(target, findings)], []), "sarif"))
    texts = [r["message"]["text"].split(" (image")[0] for r in doc["runs"][0]["results"]]
    assert texts[0] == texts[1].removesuffix("")  # the same rule for both
    shown = texts[0]
    for raw in ("\u200b", "\u202e", "\U000e0041", "\x1b"):
        assert raw not in shown
    assert "zero\\u200bwidth" in shown and "\\U000e0041" in shown and "esc\\x1b" in shown
    assert "literal \\\\x1b" in shown  # a literal backslash is told from an escape
