"""Fuzz the configuration YAML: the shared reader, the policy, exceptions files and rule packs.

Each target asserts the fail-closed contract: a value of the documented shape (plain JSON values,
bounded, finite) or a ``ConfigError`` whose message is one line naming the file, never another
exception, never a hang; an exceptions file is never accepted with an entry that names a
never-waivable rule or a wildcard, and a policy never lowers SL105.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint import yamlio
from slsalint.errors import ConfigError
from slsalint.exceptions import UNWAIVABLE, exceptions_from_document, parse_text
from slsalint.model import Level
from slsalint.policy import available_packs, load_pack, load_policy, plan_rules
from slsalint.resources import RULES_DIR
from tests.fuzz.cli import run_cli

DAY = dt.date(2026, 3, 1)
YAML_TOKENS = st.sampled_from(
    [*list("[]{}:,-?&*!|>'\"#%@` \n\t\\.~=<ab1"), "0x", ".nan", "<<", "!!", "- ", ": "]
)
yaml_text = st.lists(YAML_TOKENS, max_size=120).map("".join) | st.text(max_size=200)


def _check_value(value: Any) -> None:
    plain = yamlio.plain(value)
    json.dumps(plain, allow_nan=False)  # JSON values only: finite numbers, strings, lists, objects
    count, pending, depth = 0, [(plain, 1)], 0
    while pending:
        item, level = pending.pop()
        count += 1
        depth = max(depth, level)
        assert count <= yamlio.MAX_NODES + 1, "more values than the bound once aliases are expanded"
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else []
        pending.extend((child, level + 1) for child in children)
    assert depth <= yamlio.MAX_DEPTH + 1, "nested deeper than the bound"


def _check_refusal(exc: ConfigError, name: str) -> None:
    message = str(exc)
    assert "\n" not in message and message.startswith(name), message
    assert len(message) < 400, message


def _load(text: str, name: str = "c.yaml") -> None:
    try:
        value = yamlio.loads(text, name)
    except ConfigError as exc:
        _check_refusal(exc, name)
        return
    _check_value(value)


@given(yaml_text)
def test_arbitrary_text(text: str) -> None:
    _load(text)


# --- generated YAML: anchors, aliases, tags, flow and block collections, odd keys ---------------

scalar_tokens = st.sampled_from(
    [
        "a",
        "1",
        "-1",
        "0x1F",
        "1e999",
        ".nan",
        "-.inf",
        "'q'",
        '"\\ud800"',
        "~",
        "true",
        "2026-13-01",
        "!!str 1",
        "!!int 3",
        "!!binary aGk=",
        "!custom x",
        "9" * 70,
        "''",
        "<<",
    ]
)


anchor_prefix = st.sampled_from(["", "", "", "&x ", "&y ", "&z "])


def _flow(items: st.SearchStrategy[list[str]], keyed: bool) -> st.SearchStrategy[str]:
    if keyed:
        pairs = st.lists(st.tuples(items.map(" ".join), items.map(" ".join), st.booleans()), max_size=3)
        text = pairs.map(
            lambda ps: "{" + ", ".join(f"? {k} : {v}" if c else f"{k}: {v}" for k, v, c in ps) + "}"
        )
    else:
        text = items.map(lambda xs: "[" + ", ".join(xs) + "]")
    return st.tuples(anchor_prefix, text).map("".join)


yaml_nodes = st.recursive(
    st.tuples(anchor_prefix, scalar_tokens).map("".join) | st.sampled_from(["*x", "*y", "*z"]),
    lambda inner: (
        _flow(st.lists(inner, max_size=3), keyed=False)
        | _flow(st.lists(inner, min_size=1, max_size=1), keyed=True)
    ),
    max_leaves=30,
)


@given(yaml_nodes, st.integers(0, 80))
def test_generated_documents(node: str, wrap: int) -> None:
    _load("[" * wrap + node + "]" * wrap)
    _load(f"a: {node}\nb: {node}\n")


@given(st.integers(1, 12), st.integers(1, 12), st.booleans())
def test_alias_bombs(width: int, levels: int, as_keys: bool) -> None:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    if as_keys:
        lines.append(f"? *l{levels - 1}\n: x")
    _load("\n".join(lines) + "\n")


# --- the policy file ------------------------------------------------------------------------------

packs = st.lists(st.sampled_from([*available_packs(), "nope", "Bad"]), max_size=3)
levels = st.sampled_from(["error", "warning", "note", "off", "fatal", 1, None])
rule_keys = st.sampled_from(["SL105", "envelope-invalid", "SL904", "rule-error", "SL302", "SL301", "SL901"])
rule_keys = rule_keys | st.sampled_from(["SL999", "ACME001", "provenance-mode-min", "x y"])
any_value = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {"version": draw(st.sampled_from([1, 1, 2, "1"]))}
    optional = {
        "packs": packs,
        "fail-on": levels,
        "rules": st.dictionaries(
            rule_keys,
            st.fixed_dictionaries({}, optional={"level": levels, "allowed": any_value}) | any_value,
            max_size=3,
        ),
        "components": st.dictionaries(
            st.sampled_from(["app", "fleet-agent", "-bad"]),
            st.fixed_dictionaries(
                {"images": st.lists(st.sampled_from(["*/app", "x/y", "", " "]), max_size=2)},
                optional={
                    "source": st.sampled_from(["https://github.com/o/r", ""]),
                    "ref": st.sampled_from(["refs/tags/{tag}", "refs/{nope}", "{tag"]),
                    "tag-transforms": st.lists(
                        st.sampled_from(["strip-v", "add-v", {"regex": {"pattern": "(", "replace": ""}}])
                        | st.just({"regex": {"pattern": "^v(.*)", "replace": "\\2"}})
                        | any_value,
                        max_size=2,
                    ),
                    "signers": st.lists(any_value, max_size=1),
                },
            )
            | any_value,
            max_size=2,
        ),
        "signers": st.lists(
            st.fixed_dictionaries(
                {}, optional={"issuer": any_value, "identity-regexp": st.sampled_from(["(", "^x$"])}
            )
            | st.fixed_dictionaries({"key": st.sampled_from(["k.pem", "/dev/zero", "fifo", "nope.pem"])})
            | any_value,
            max_size=2,
        ),
        "exceptions-horizon-days": st.integers(-1, 4000) | any_value,
        "exceptions-warning-days": st.integers(-1, 4000) | any_value,
        "exceptions": st.sampled_from(["e.yaml", "", "/dev/zero"]),
        "x-unknown": any_value,
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5)):
        document[key] = draw(optional[key])
    return document


def _write_policy(directory: Path, text: str) -> Path:
    path = directory / "slsalint.yaml"
    path.write_text(text, encoding="utf-8")
    (directory / "k.pem").write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    os.mkfifo(directory / "fifo")
    return path


def _policy_round(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_policy(Path(tmp), text)
        try:
            policy = load_policy(path)
            planned, _ = plan_rules(policy)
        except ConfigError as exc:
            _check_refusal(exc, str(path))
            return
        by_id = {rule.check.id: rule for rule in planned}
        assert by_id["SL105"].level is Level.ERROR, "SL105 was lowered or disabled"


@given(policies())
def test_policies(document: dict[str, Any]) -> None:
    _policy_round(json.dumps(document))  # JSON is YAML: the document exactly as generated


REAL_POLICY = """\
version: 1
packs: [recommended, docker-scout]
fail-on: error
rules:
  SL302: {level: warning}
  provenance-mode-min: &lvl {level: note}
signers:
  - issuer: https://token.actions.githubusercontent.com
    identity-regexp: '^https://github\\.com/o/r/'
components:
  app:
    images: ["*/o/app"]
    source: https://github.com/o/r
    ref: "refs/tags/{tag}"
    tag-transforms: [strip-v, {replace-suffix: {from: "-r1", to: "+r1"}}]
exceptions-horizon-days: 90
"""


@st.composite
def mutations(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters inserted, deleted or replaced."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = "".join(draw(st.lists(YAML_TOKENS, min_size=1, max_size=3)))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + len(piece) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return text


@given(mutations(REAL_POLICY))
def test_mutated_policy(text: str) -> None:
    _policy_round(text)


# --- exceptions files -----------------------------------------------------------------------------

exception_rules = st.sampled_from(
    [
        "SL302",
        "provenance-mode-min",
        "ACME001",
        "SL105",
        "sl105",
        "envelope-invalid",
        "SL904",
        "rule-error",
        "SL901",
        "SL902",
        "exception-unused",
        "*",
        "SL9*",
        "SL10?",
        "[S]L105",
        "all",
        "SL999",
        "",
        "sl302",
    ]
)
dates = st.sampled_from(
    ["2026-03-20", "2026-13-01", "2026-02-30", "2026-3-1", "2026-03-20T00:00:00Z", "31/12/2026"]
)


@st.composite
def exceptions_files(draw: st.DrawFn) -> tuple[str, list[Any]]:
    entries = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "rule": exception_rules | any_value,
                    "component": st.sampled_from(["app", "*/o/*", "x/y", "", "a b"]),
                    "reason": st.sampled_from(["r", " ", ""]),
                    "owner": st.sampled_from(["o@example.com", ""]),
                    "expires": dates | any_value,
                },
                optional={
                    "platforms": st.lists(
                        st.sampled_from(["linux/arm64", "arm64", "linux/amd64/v2"]), max_size=2
                    ),
                    "digest": st.sampled_from(["sha256:" + "a" * 64, "sha256:abc"]),
                    "ticket": st.sampled_from(["T-1", ""]),
                    "until": any_value,
                },
            ),
            max_size=4,
        )
    )
    style = draw(st.sampled_from(["json", "block"]))
    if style == "json":
        text = json.dumps({"version": 1, "exceptions": entries})
    else:
        lines = ["version: 1", "exceptions:"]
        for entry in entries:
            for index, (key, value) in enumerate(entry.items()):
                lines.append(f"  {'-' if index == 0 else ' '} {key}: {json.dumps(value)}")
        text = "\n".join(lines) + "\n"
        # a plain (unquoted) date, as people write it, for some entries
        text = text.replace('"2026-13-01"', "2026-13-01").replace('"2026-03-20"', "2026-03-20")
    return text, entries


def _forbidden(rule: Any) -> bool:
    if not isinstance(rule, str):
        return False
    lowered = rule.strip().lower()
    names = {"envelope-invalid", "rule-error", "exception-expired", "exception-unused", "exception-expiring"}
    return (
        lowered.upper() in UNWAIVABLE
        or lowered in names
        or any(c in rule for c in "*?[]{}")
        or lowered == "all"
    )


@given(exceptions_files())
def test_exceptions_files(generated: tuple[str, list[Any]]) -> None:
    text, entries = generated
    path = Path("slsalint-exceptions.yaml")
    try:
        loaded = exceptions_from_document(path, parse_text(text, path), today=DAY, horizon_days=3650)
    except ConfigError as exc:
        _check_refusal(exc, str(path))
        return
    assert len(loaded.entries) == len(entries)
    assert not any(_forbidden(e.get("rule")) for e in entries), (
        "a never-waivable or wildcard rule was accepted"
    )
    for entry in loaded.entries:
        assert entry.rule not in UNWAIVABLE
        assert isinstance(entry.expires, dt.date) and entry.reason.strip() and entry.owner.strip()


@given(
    mutations(
        "version: 1\nexceptions:\n  - rule: SL302\n    component: '*/o/app'\n    reason: legacy\n"
        "    owner: o@example.com\n    expires: 2026-03-20\n"
    )
)
def test_mutated_exceptions_file(text: str) -> None:
    path = Path("e.yaml")
    try:
        loaded = exceptions_from_document(path, parse_text(text, path), today=DAY, horizon_days=3650)
    except ConfigError as exc:
        _check_refusal(exc, str(path))
        return
    assert all(e.rule not in UNWAIVABLE for e in loaded.entries)


# --- rule packs -------------------------------------------------------------------------------------

PACK_TEXT = (RULES_DIR / "recommended" / "pack.yaml").read_text(encoding="utf-8")


@given(mutations(PACK_TEXT))
def test_mutated_pack(text: str) -> None:
    """A pack file read by ``load_pack``: parsed, validated, its rules and options checked."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recommended" / "pack.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        try:
            pack = load_pack("recommended", rules_dir=Path(tmp))
        except ConfigError as exc:
            _check_refusal(exc, str(path))
            return
    assert pack.rules.get("SL105") is None or pack.rules["SL105"].level in (None, Level.ERROR)


GOOD_STATEMENT = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "x", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {"builder": {"id": "https://github.com/o/r/.github/workflows/b.yml@refs/heads/main"}},
    }
)


@given(policies() | mutations(REAL_POLICY).map(lambda t: {"__text__": t}), exceptions_files() | st.none())
def test_the_cli_never_fails_open_on_configuration(document: dict[str, Any], exceptions: Any) -> None:
    """``slsalint check`` with any policy and exceptions file: a report (0/1) or one configuration
    error line (2); never an internal error, and never a pass when an exception names SL105/SL904."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        text = document.pop("__text__", None) or json.dumps(document)
        path = _write_policy(directory, text)
        (directory / "a.json").write_text(GOOD_STATEMENT)
        argv = [
            "check",
            "--attestation",
            str(directory / "a.json"),
            "--policy",
            str(path),
            "--format",
            "json",
        ]
        if exceptions is not None:
            (directory / "x.yaml").write_text(exceptions[0])
            argv += ["--exceptions", str(directory / "x.yaml")]
        code, stderr = run_cli(argv)
    assert code in (0, 1, 2), stderr
    if code == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("slsalint: error: "), stderr
    if exceptions is not None and code in (0, 1):
        assert not any(_forbidden(e.get("rule")) for e in exceptions[1]), (
            "a never-waivable exception was used"
        )
