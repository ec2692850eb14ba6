"""Loading Rego modules: packages, ``deny``/``warn`` rules, # METADATA, load errors, pack tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from slsalint.errors import ConfigError
from slsalint.model import Level
from slsalint.rego import RegoSource, load_rules, parse_module
from tests.rego.conftest import ORG001_MODULE, write_rego


def load(tmp_path: Path, *modules: tuple[str, str]) -> list[tuple[str, str, Level, int]]:
    for name, text in modules:
        write_rego(tmp_path, name, text)
    ruleset = load_rules([RegoSource(tmp_path)])
    return [(r.id, r.kind, r.level, r.line) for r in ruleset.rules]


def test_package_scoped_metadata_names_the_rule(tmp_path: Path) -> None:
    write_rego(tmp_path, "images.rego", ORG001_MODULE)
    ruleset = load_rules([RegoSource(tmp_path)])
    [rule] = ruleset.rules
    assert (rule.id, rule.name, rule.kind, rule.level) == (
        "ORG001",
        "base-images-from-the-company-registry",
        "deny",
        Level.ERROR,
    )
    assert rule.line == 10 and rule.package == "org.images"
    [meta] = ruleset.metas()
    assert meta.summary == "Base images from the company registry"
    assert "registry.example.com" in meta.doc and "images.rego:10" in meta.doc


def test_rule_scoped_metadata_overrides_package_and_severity(tmp_path: Path) -> None:
    text = """\
# METADATA
# custom:
#   id: ORG010
package org.args

import rego.v1

deny contains "a" if input.a

# METADATA
# title: Odd things
# custom:
#   id: ORG011
#   severity: note
warn contains {"msg": "b"} if input.b

warn contains "c" if input.c
"""
    assert load(tmp_path, ("args.rego", text)) == [
        ("ORG010", "deny", Level.ERROR, 8),
        ("ORG011", "warn", Level.NOTE, 15),
        ("ORG010", "warn", Level.WARNING, 17),
    ]


def test_rewritten_module_keeps_lines_and_deny(tmp_path: Path) -> None:
    module = parse_module(tmp_path / "m.rego", ORG001_MODULE)
    compiled = module.compiled.splitlines()
    original = ORG001_MODULE.splitlines()
    assert compiled[: len(original)][9].startswith("slsalint__r1 contains msg if {")
    assert compiled[:9] == original[:9] and compiled[10 : len(original)] == original[10:]
    assert "deny contains slsalint__v if { some slsalint__v in slsalint__r1 }" in compiled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("package p\nimport rego.v1\n\ndeny contains 1 if true\n", "t.rego:4: rule `deny` has no id"),
        (
            "# METADATA\n# custom:\n#   id: SL999\npackage p\ndeny contains 1 if true\n",
            "t.rego:5: rule id SL999: the SL prefix is reserved",
        ),
        (
            "# METADATA\n# custom:\n#   id: org-1\npackage p\ndeny contains 1 if true\n",
            "expected two or more capital letters and three digits",
        ),
        (
            "# METADATA\n# custom:\n#   id: ORG001\npackage p\ndeny[msg] {\n  msg := 1\n}\n",
            "t.rego:5: `deny` must be a partial set rule",
        ),
        (
            "# METADATA\n# custom:\n#   id: ORG001\npackage p\ndefault deny := false\n",
            "`deny` must be a partial set rule",
        ),
        (
            "# METADATA\n# custom:\n#   id: ORG001\n#   severity: fatal\n"
            "package p\nwarn contains 1 if true\n",
            "custom.severity 'fatal'",
        ),
        ("# METADATA\n# title: [unclosed\npackage p\n", "invalid YAML in # METADATA"),
        (
            "# METADATA\n# custom:\n#   id: ORG001\n\npackage p\n",
            "t.rego:1: # METADATA must be directly followed",
        ),
        ("import rego.v1\ndeny contains 1 if true\n", "rule before the package statement"),
        ("# just a comment\n", "t.rego: no package statement"),
    ],
)
def test_load_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    write_rego(tmp_path, "t.rego", text)
    with pytest.raises(ConfigError) as caught:
        load_rules([RegoSource(tmp_path)])
    assert message in str(caught.value)


def test_duplicate_ids_and_names_are_load_errors(tmp_path: Path) -> None:
    write_rego(tmp_path, "a.rego", ORG001_MODULE)
    write_rego(tmp_path, "b.rego", ORG001_MODULE.replace("org.images", "org.other"))
    with pytest.raises(ConfigError, match=r"b\.rego:1: duplicate rule id ORG001 \(also .*a\.rego:1\)"):
        load_rules([RegoSource(tmp_path)])
    clash = ORG001_MODULE.replace("ORG001", "ORG002").replace(
        "title: Base images from the company registry", "title: Provenance mode min"
    )
    (tmp_path / "b.rego").write_text(clash)
    with pytest.raises(ConfigError, match=r"already used by SL302; set custom\.name"):
        load_rules([RegoSource(tmp_path)])
    (tmp_path / "b.rego").write_text(clash.replace("#   id: ORG002", "#   id: ORG002\n#   name: my-mode"))
    assert {r.name for r in load_rules([RegoSource(tmp_path)]).rules} == {
        "base-images-from-the-company-registry",
        "my-mode",
    }


def test_sources_must_exist_and_hold_modules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--rego: .*nope: no such file or directory"):
        load_rules([RegoSource(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no Rego modules \(\*\.rego\) found"):
        load_rules([RegoSource(tmp_path / "empty")])
    test_file = write_rego(tmp_path, "x_test.rego", "package x\n")
    with pytest.raises(ConfigError, match="is a test file"):
        load_rules([RegoSource(test_file)])


def test_tests_are_discovered_with_their_inputs(tmp_path: Path) -> None:
    (tmp_path / "testdata").mkdir()
    (tmp_path / "testdata" / "in.json").write_text('{"a": 1}')
    text = """\
package p_test

import rego.v1

# METADATA
# custom:
#   input: testdata/in.json
test_one if {
	input.a == 1
}

# METADATA
# custom:
#   input: {"a": 2}
test_two if input.a == 2

helper := 1

test_one if false
"""
    module = parse_module(write_rego(tmp_path, "p_test.rego", text), text)
    assert [(t.name, t.line, t.input, t.spans) for t in module.tests] == [
        ("test_one", 8, '{"a":1}', ((8, 10), (19, 19))),
        ("test_two", 15, '{"a":2}', ((15, 15),)),
    ]
    missing = text.replace("testdata/in.json", "testdata/nope.json")
    with pytest.raises(ConfigError, match=r"p_test.rego:8: custom.input .*nope.json: no such file"):
        parse_module(tmp_path / "p_test.rego", missing)


def test_external_calls_are_what_the_engine_must_provide(tmp_path: Path) -> None:
    lib = """\
package acme.lib

import rego.v1

repo(uri) := trim_prefix(uri, "pkg:docker/")
"""
    rules = """\
# METADATA
# custom:
#   id: ACME001
package acme.rules

import rego.v1

import data.acme.lib
import data.acme.lib.repo as r

# a comment mentioning commented_out(1)
deny contains msg if {
	some m in input.provenance.materials
	lib.repo(m.uri) != r(m.uri)
	not contains(m.uri, "x")
	net.cidr_contains("10.0.0.0/8", m.uri)
	msg := concat("", ["call(", data.acme.lib.repo(m.uri), ")"])
}
"""
    write_rego(tmp_path, "lib.rego", lib)
    write_rego(tmp_path, "rules.rego", rules)
    ruleset = load_rules([RegoSource(tmp_path)])
    from slsalint.rego import external_calls

    calls = {name: (path.name, line) for name, (path, line) in external_calls(ruleset.modules).items()}
    assert calls == {
        "trim_prefix": ("lib.rego", 5),
        "net.cidr_contains": ("rules.rego", 16),
        "concat": ("rules.rego", 17),
    }
