"""sigstore/sigstore-conformance's bundle-verify suite, run through ``slsalint check`` as a user
runs it, with a printed tally.

Every directory of ``tests/assets/sigstore-conformance`` (copied byte for byte, see SOURCES.md
there) is one case: ``bundle.sigstore.json``, optionally ``artifact`` (else ``a.txt``),
``identity``/``issuer`` (else the conformance beacon workflow and GitHub's issuer), ``key.pub``
(verify with the key instead of an identity) and ``trusted_root.json`` (else the public-good
production root). A name ending in ``_fail`` must fail. slsalint's inputs for it are the ones of
the conformance CLI protocol (``verify-bundle --bundle --certificate-identity
--certificate-oidc-issuer | --key [--trusted-root] FILE``):

    slsalint check --attestation BUNDLE --artifact FILE
        --certificate-identity ID --certificate-oidc-issuer ISSUER | --key key.pub
        [--trusted-root trusted_root.json] [--enable SL205 --disable SL101]

A message-signature bundle is an artifact signature, so its case asks for one (SL205, like
``cosign verify-blob --bundle``) instead of provenance (SL101); a DSSE bundle is provenance about
the artifact, judged by the default pack (signed by the expected signer, naming the artifact).

A case *agrees* when a happy path exits 0 and a ``_fail`` case exits 1 for a signature reason
(SL103/SL105/SL202-SL205 findings), 2 for an unusable ``--key`` or 3 for an unusable trusted root
(each with a one-line error naming the file); exit 4, a traceback or a pass of a ``_fail`` case
never agrees. A case is *not applicable* when it needs an input slsalint does not take; the tally
says why. ``python -m tests.verify.test_conformance`` prints the tally.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "assets" / "sigstore-conformance"
PUBLIC_GOOD = (
    ROOT / "tests" / "assets" / "corpus" / "trust-roots" / "sigstore-public-good.production.trusted_root.json"
)
DEFAULT_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"
SIGNATURE_RULES = frozenset({"SL103", "SL105", "SL201", "SL202", "SL203", "SL204", "SL205"})


@dataclass(frozen=True)
class Outcome:
    case: str
    verdict: str
    """``agree``, ``disagree`` or ``n/a``."""
    detail: str


def cases() -> list[Path]:
    return sorted(p for p in SUITE.iterdir() if p.is_dir() and (p / "bundle.sigstore.json").is_file())


def arguments(case: Path) -> list[str]:
    bundle = case / "bundle.sigstore.json"
    artifact = case / "artifact" if (case / "artifact").is_file() else SUITE / "a.txt"
    args = ["check", "--attestation", str(bundle), "--artifact", str(artifact), "--format", "json"]
    if (case / "key.pub").is_file():
        args += ["--key", str(case / "key.pub")]
    else:
        identity = (
            (case / "identity").read_text().strip() if (case / "identity").is_file() else DEFAULT_IDENTITY
        )
        issuer = (case / "issuer").read_text().strip() if (case / "issuer").is_file() else DEFAULT_ISSUER
        args += ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer]
    root = case / "trusted_root.json" if (case / "trusted_root.json").is_file() else PUBLIC_GOOD
    args += ["--trusted-root", str(root)]
    # The user knows whether they verify a blob's signature or an attestation (even when the
    # bundle turns out to be unreadable): a message signature is checked as an artifact signature.
    if b'"messageSignature"' in bundle.read_bytes():
        args += ["--enable", "SL205", "--disable", "SL101"]
    return args


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``slsalint ARGS`` in this process (the console entry point, exit code included)."""
    from slsalint.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def judge(case: Path) -> Outcome:
    name = case.name
    must_fail = name.endswith("_fail")
    code, stdout, stderr = run_cli(arguments(case))
    first = next((line for line in stderr.splitlines() if line.strip()), "")
    if code == 4 or "Traceback" in stderr:
        return Outcome(name, "disagree", f"exit {code}: {first}")
    if code in (2, 3):
        one_line = len([line for line in stderr.splitlines() if line.strip()]) == 1
        named = any(str(p) in first for p in case.iterdir())
        why = f"exit {code}: {first}"
        if must_fail and one_line and named:
            return Outcome(name, "agree", why)
        return Outcome(name, "disagree", why)
    report = json.loads(stdout)
    failing = sorted(
        {
            f["ruleId"]
            for t in report["targets"]
            for f in t["findings"]
            if f["level"] == "error" and not f["waived"]
        }
    )
    messages = [f["message"] for t in report["targets"] for f in t["findings"] if f["level"] == "error"]
    detail = f"exit {code} {','.join(failing) or 'no findings'}"
    if messages:
        detail += f": {messages[0][:160]}"
    if code == 0:
        return Outcome(name, "disagree" if must_fail else "agree", detail)
    if not must_fail:
        return Outcome(name, "disagree", detail)
    reasons = set(failing) - ({"SL101"} if "SL105" in failing else set())  # unreadable: no provenance either
    if not reasons <= SIGNATURE_RULES:
        return Outcome(name, "disagree", f"fails for a reason that is not the signature: {detail}")
    return Outcome(name, "agree", detail)


def not_applicable(case: Path) -> str | None:
    """Why a case does not fit slsalint's inputs (None: it fits). Every current case fits: the
    conformance CLI protocol's verify-bundle inputs all have a ``slsalint check`` flag."""
    if not (case / "bundle.sigstore.json").is_file():
        return "no bundle.sigstore.json"
    return None


def tally() -> list[Outcome]:
    outcomes = []
    for case in cases():
        reason = not_applicable(case)
        outcomes.append(Outcome(case.name, "n/a", reason) if reason else judge(case))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("agree", "disagree", "n/a")}
    lines = [f"{o.verdict:8} {o.case}: {o.detail}" for o in outcomes]
    lines.append(
        f"sigstore-conformance bundle-verify: {len(outcomes)} cases, {counts['agree']} agree, "
        f"{counts['disagree']} disagree, {counts['n/a']} not applicable"
    )
    return "\n".join(lines)


@pytest.fixture
def printed(capsys: pytest.CaptureFixture[str]) -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    with capsys.disabled():
        sys.stdout.write("\n" + "\n".join(lines) + "\n")


def test_the_suite_is_all_there() -> None:
    """The copy holds the whole bundle-verify directory of the pinned commit (70 cases), each
    with its README, and the shared artifact."""
    names = [c.name for c in cases()]
    assert len(names) == 70
    assert sum(n.endswith("_fail") for n in names) == 49
    assert (SUITE / "a.txt").is_file() and (SUITE / "SOURCES.md").is_file()
    sources = (SUITE / "SOURCES.md").read_text()
    for name in names:
        assert f"`{name}/" in sources, name


def test_conformance_tally(printed: list[str]) -> None:
    outcomes = tally()
    printed.append(table(outcomes))
    disagree = [o for o in outcomes if o.verdict == "disagree"]
    assert not disagree, "\n".join(f"{o.case}: {o.detail}" for o in disagree)
    assert len([o for o in outcomes if o.verdict == "agree"]) == len(outcomes)


if __name__ == "__main__":
    print(table(tally()))
