"""Fuzz the report renderers with hostile finding text: every format renders, stays parseable, and
never carries a raw control, bidirectional or invisible character from the input; ``sanitize`` is
reversible (a literal backslash is never confused with an escape)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from slsalint.model import Finding, Level, Platform, PlatformTarget, Report, Target, TargetResult, Waiver
from slsalint.report import FORMATS, render
from slsalint.report._common import _UNSAFE, sanitize

_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def without_code_spans(line: str) -> str:
    """``line`` with its GFM code spans removed (a backslash-escaped backtick opens none)."""
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if ch == "`":
            run = len(line[i:]) - len(line[i:].lstrip("`"))
            fence = "`" * run
            end = line.find(fence, i + run)
            while end != -1 and line[end + run : end + run + 1] == "`":
                end = line.find(fence, end + run + 1)
            if end != -1:
                i = end + run
                continue
            out.append(fence)
            i += run
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def unsanitize(text: str) -> str:
    """The inverse of :func:`sanitize`."""

    def back(m: re.Match[str]) -> str:
        body = m.group(1)
        return "\\" if body == "\\" else chr(int(body[1:], 16))

    return _ESCAPE.sub(back, text)


hostile = st.text(
    alphabet=st.characters(codec=None, exclude_categories=())
    | st.sampled_from(list("\\\x1b\u200b\u202e\U000e0041<>&|`*_[]@")),
    max_size=60,
)


@given(hostile)
def test_sanitize_is_safe_and_reversible(text: str) -> None:
    shown = sanitize(text)
    assert not _UNSAFE.search(shown)
    assert unsanitize(shown) == text


def _report(message: str, other: str) -> Report:
    target = Target(
        reference=f"ghcr.io/acme/app:{'v1'}",
        kind="image",
        index_digest="sha256:" + "1" * 64,
        platforms=[PlatformTarget("sha256:" + "a" * 64, Platform("linux", "amd64"))],
    )
    findings = [
        Finding(
            "SL301",
            "builder-untrusted",
            Level.ERROR,
            message,
            target.reference,
            platform="linux/amd64",
            actual=other,
            remediation=f"fix `{other}`",
            pointer="/predicate/builder/id",
        ),
        Finding(
            "ORG001",
            "org-rule",
            Level.WARNING,
            message,
            target.reference,
            platform="linux/amd64",
            source="rego x",
        ),
        Finding(
            "SL302",
            "provenance-mode-min",
            Level.ERROR,
            other or "m",
            target.reference,
            waiver=Waiver(reason=message or "r", owner=other or "o", expires="2030-01-01", ticket=message),
        ),
    ]
    return Report("0.1.0", [TargetResult(target, findings)], [])


@given(hostile, hostile)
def test_every_format_renders_hostile_text_safely(message: str, other: str) -> None:
    report = _report(message, other)
    for fmt in FORMATS:
        out = render(report, fmt)
        out.encode("utf-8")
        if fmt == "sarif":
            doc = json.loads(out)
            texts = [r["message"]["text"] for r in doc["runs"][0]["results"]]
            assert len(set(texts)) == len(texts)
            for text in texts:
                assert not _UNSAFE.search(text)
        elif fmt == "junit":
            root = ET.fromstring(out)
            keys = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
            assert len(keys) == len(set(keys))
            for element in root.iter():
                for value in [element.text or "", *element.attrib.values()]:
                    assert not _UNSAFE.search(value)
        elif fmt == "markdown":
            assert not _UNSAFE.search(out)
            for line in out.splitlines():
                if (
                    line.startswith("| ")
                    and "builder-untrusted" in line
                    and "SL301" in line
                    and "linux" in line
                ):
                    # five columns: every pipe of the content is escaped, in code spans too
                    assert len(re.findall(r"(?<!\\)\|", line)) == 6, line
            # inside a code span nothing is HTML
            outside_code = "\n".join(without_code_spans(line) for line in out.splitlines())
            assert "<" not in re.sub(r"<br>|</?details>|<summary>|</summary>", "", outside_code)
        elif fmt == "text":
            assert not _UNSAFE.search(out)
