"""Fault catalogue: bad input files, hostile attestations, broken YAML and exceptions.

One row per case. Each row builds its inputs in a fresh directory, runs slsalint as a user does
and asserts the exit code and the first line of stderr, or the finding id (and message) in the
JSON report. Files named on the command line or in the policy that cannot be used are exit 2 (an
I/O error while reading one is exit 3); bytes that are not an acceptable attestation are SL105.
"""

# ruff: noqa: E501 (one catalogue row per line reads best)
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import buildkit as bk

DIGEST = "sha256:" + "ab" * 32
STATEMENT = bk.buildkit_v02_statement(DIGEST)
GOOD = json.dumps(STATEMENT)
EXPIRES = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def dsse(statement: str, **over: object) -> str:
    envelope: dict[str, object] = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": _b64(statement),
        "signatures": [{"keyid": "", "sig": _b64("sig")}],
    }
    envelope.update(over)
    return json.dumps(envelope)


def bundle(envelope: str, **over: object) -> str:
    document: dict[str, object] = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "k"}},
        "dsseEnvelope": json.loads(envelope),
    }
    document.update(over)
    return json.dumps(document)


def with_value(text: str) -> str:
    """The good statement with ``"x": <text>`` added (raw JSON text, so NaN etc. go in verbatim)."""
    return GOOD[:-1] + f', "x": {text}}}'


def laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


Setup = Callable[[Path], Sequence[str]]


@dataclass(frozen=True)
class Row:
    fault: Fault
    setup: Setup


def attestation(name: str, content: str | bytes, *extra: str) -> Setup:
    def setup(tmp: Path) -> Sequence[str]:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return ["check", "--attestation", name, "--format", "json", *extra]

    return setup


def finding(name: str, rule: str, message: str) -> Fault:
    return Fault(name, 1, finding=rule, message=message)


def fifo(tmp: Path, name: str) -> str:
    os.mkfifo(tmp / name)
    return name


def files(args: Sequence[str], **contents: str | bytes) -> Setup:
    """Write ``contents`` (file name -> text; ``FIFO`` makes a FIFO, ``DIR`` a directory), then run
    ``args`` (``{tmp}`` in an argument is the directory)."""

    def setup(tmp: Path) -> Sequence[str]:
        (tmp / "good.json").write_text(GOOD)
        for name, content in contents.items():
            path = tmp / name.replace("__", ".")
            if content == "FIFO":
                os.mkfifo(path)
            elif content == "DIR":
                path.mkdir()
            else:
                path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return [a.replace("{tmp}", str(tmp)) for a in args]

    return setup


def policy(text: str | bytes, *extra: str, **contents: str | bytes) -> Setup:
    return files(
        ["check", "--attestation", "good.json", "--policy", "p.yaml", *extra], p__yaml=text, **contents
    )


def exceptions(text: str, **contents: str | bytes) -> Setup:
    return files(["check", "--attestation", "good.json", "--exceptions", "e.yaml"], e__yaml=text, **contents)


def entry(rule: str = "SL302", expires: str = EXPIRES) -> str:
    return (
        f"version: 1\nexceptions:\n  - rule: {rule}\n    component: '*'\n    reason: r\n    owner: o\n"
        f"    expires: {expires}\n"
    )


ADD = ["exceptions", "add", "e.yaml", "--component", "*/o/*", "--reason", "r", "--owner", "o"]


def add(rule: str) -> Setup:
    return files([*ADD, "--rule", rule, "--expires", EXPIRES])


def sparse(size: int) -> Setup:
    def setup(tmp: Path) -> Sequence[str]:
        with (tmp / "big.json").open("wb") as handle:
            handle.truncate(size)
        return ["check", "--attestation", "big.json", "--format", "json"]

    return setup


def unix_socket(tmp: Path) -> Sequence[str]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp / "s.json"))
    return ["check", "--attestation", "s.json"]


def dangling_default_policy(tmp: Path) -> Sequence[str]:
    (tmp / "good.json").write_text(GOOD)
    (tmp / "slsalint.yaml").symlink_to(tmp / "moved-away.yaml")
    return ["check", "--attestation", "good.json"]


def policy_key_fifo(tmp: Path) -> Sequence[str]:
    (tmp / "good.json").write_text(GOOD)
    fifo(tmp, "cosign.pub")
    (tmp / "p.yaml").write_text("version: 1\nsigners:\n  - key: cosign.pub\n")
    return ["check", "--attestation", "good.json", "--policy", "p.yaml"]


ROWS = [
    # --- attestation content: SL105 naming the file (and line), exit 1 ---------------------------
    Row(finding("dsse-payload-nan", "SL105", r"^a.json payload: NaN is not a JSON number$"),
        attestation("a.json", dsse(with_value("NaN")))),
    Row(finding("dsse-payload-infinity", "SL105", r"^a.json payload: Infinity is not a JSON number$"),
        attestation("a.json", dsse(with_value("[1, Infinity]")))),
    Row(finding("bundle-payload-negative-infinity", "SL105",
                r"^b.json dsseEnvelope payload: -Infinity is not a JSON number$"),
        attestation("b.json", bundle(dsse(with_value("-Infinity"))))),
    Row(finding("statement-overflowing-number", "SL105", r"^s.json: number 1e999 is out of range$"),
        attestation("s.json", with_value("1e999"))),
    Row(finding("statement-5000-digit-integer", "SL105", r"^s.json: integer of 5000 digits is too long$"),
        attestation("s.json", with_value("9" * 5000))),
    Row(finding("statement-deep-nesting", "SL105", r"^s.json: not acceptable JSON: nested more than 64 levels"),
        attestation("s.json", "[" * 100_000 + "]" * 100_000)),
    Row(finding("dsse-payload-deep-nesting", "SL105", r"^a.json payload: not acceptable JSON: nested more"),
        attestation("a.json", dsse(with_value("[" * 70 + "]" * 70)))),
    Row(finding("statement-lone-surrogate", "SL105", r"^s.json: not acceptable JSON: a string holds a lone"),
        attestation("s.json", with_value('"\\udc80"'))),
    Row(finding("dsse-payload-duplicate-key", "SL105", r"^a.json payload: duplicate JSON key 'predicateType'$"),
        attestation("a.json", dsse(GOOD[:-1] + ', "predicateType": "https://example.com/x"}'))),
    Row(finding("utf8-byte-order-mark", "SL105", r"^s.json: starts with a byte order mark \(JSON must not\)$"),
        attestation("s.json", b"\xef\xbb\xbf" + GOOD.encode())),
    Row(finding("utf16-file", "SL105", r"^s.json: not UTF-8 text \(byte 0\)$"),
        attestation("s.json", GOOD.encode("utf-16"))),
    Row(finding("empty-file", "SL105", r"^s.json: empty$"), attestation("s.json", b"")),
    Row(finding("whitespace-only-file", "SL105", r"^s.json: empty$"), attestation("s.json", b" \n\t\n")),
    Row(finding("jsonl-broken-line", "SL105", r"^p.intoto.jsonl line 3: not valid JSON: Expecting"),
        attestation("p.intoto.jsonl", f"{dsse(GOOD)}\n\n{{broken\n{dsse(GOOD)}\n")),
    Row(finding("jsonl-nan-line", "SL105", r"^p.intoto.jsonl line 2: NaN is not a JSON number$"),
        attestation("p.intoto.jsonl", f"{dsse(GOOD)}\n{with_value('NaN')}\n")),
    Row(finding("jsonl-without-the-name", "SL105", r"^p.json line 2: number 1e999 is out of range$"),
        attestation("p.json", f"{GOOD}\n{with_value('1e999')}\n")),
    Row(finding("jsonl-line-not-an-object", "SL105",
                r"^p.intoto.jsonl line 2 is not a DSSE envelope, Sigstore bundle or in-toto statement$"),
        attestation("p.intoto.jsonl", f"{GOOD}\n[1, 2]\n")),
    Row(finding("top-level-array", "SL105", r"^s.json is not a DSSE envelope, Sigstore bundle or in-toto"),
        attestation("s.json", "[]")),
    Row(finding("statement-subject-not-a-list", "SL104", r"/subject: 'x' is not of type 'array'"),
        attestation("s.json", json.dumps({**STATEMENT, "subject": "x"}))),
    Row(finding("statement-subject-of-strings", "SL104", r"/subject/0: 'sha256:(ab)+' is not of type 'object'"),
        attestation("s.json", json.dumps({**STATEMENT, "subject": [DIGEST]}))),
    Row(finding("statement-unknown-type", "SL105", r"^s.json has unsupported in-toto statement type"),
        attestation("s.json", json.dumps({**STATEMENT, "_type": "https://in-toto.io/Statement/v9"}))),
    Row(finding("statement-type-not-a-string", "SL105", r"^s.json is not an in-toto statement \(no '_type'\)$"),
        attestation("s.json", json.dumps({**STATEMENT, "_type": ["x"]}))),
    Row(finding("dsse-wrong-payload-type", "SL105", r"^a.json has payloadType 'text/plain'"),
        attestation("a.json", dsse(GOOD, payloadType="text/plain"))),
    Row(finding("dsse-payload-type-not-a-string", "SL105", r"^a.json has no string 'payloadType'$"),
        attestation("a.json", dsse(GOOD, payloadType=["x"]))),
    Row(finding("dsse-bad-base64", "SL105", r"^a.json payload is not valid base64$"),
        attestation("a.json", dsse(GOOD, payload="not*base64!"))),
    Row(finding("dsse-payload-not-an-object", "SL105", r"^a.json payload is not a JSON object$"),
        attestation("a.json", dsse("[1]"))),
    Row(finding("dsse-signatures-not-a-list", "SL105", r"^a.json has no 'signatures' list$"),
        attestation("a.json", dsse(GOOD, signatures={"sig": "x"}))),
    Row(finding("dsse-signature-not-a-string", "SL105", r"^a.json signature 0 has no string 'sig'$"),
        attestation("a.json", dsse(GOOD, signatures=[{"sig": 7}]))),
    Row(finding("bundle-message-signature", "SL105", r"^signature: messageSignature.signature: missing$"),
        attestation("b.json", json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                                          "verificationMaterial": {}, "messageSignature": {}}))),
    Row(finding("bundle-media-type-not-a-string", "SL105", r"^b.json has unsupported media type \['x'\]$"),
        attestation("b.json", bundle(dsse(GOOD), mediaType=["x"]))),
    Row(finding("bundle-material-not-an-object", "SL105", r"^b.json has no 'verificationMaterial'$"),
        attestation("b.json", bundle(dsse(GOOD), verificationMaterial="x"))),
    Row(finding("attestation-over-64-mib", "SL105", r"^big.json: is 64 MiB, larger than the limit of 64 MiB$"),
        sparse(64 * 1024 * 1024 + 1)),
    # --- files named on the command line or in the policy: exit 2 (I/O fault: exit 3) ------------
    Row(Fault("attestation-dev-zero", 2, r"^slsalint: error: --attestation /dev/zero: is a character device, not a regular file$"),
        files(["check", "--attestation", "/dev/zero"])),
    Row(Fault("attestation-fifo", 2, r"^slsalint: error: --attestation f.json: is a FIFO, not a regular file$"),
        files(["check", "--attestation", "f.json"], f__json="FIFO")),
    Row(Fault("attestation-directory", 2, r"--attestation d: is a directory, not a regular file \(use oci:d for an OCI"),
        files(["check", "--attestation", "d"], d="DIR")),
    Row(Fault("attestation-missing", 2, r"^slsalint: error: --attestation nope.json: no such file$"),
        files(["check", "--attestation", "nope.json"])),
    Row(Fault("attestation-socket", 2, r"^slsalint: error: --attestation s.json: is a socket, not a regular file$"),
        unix_socket),
    Row(Fault("attestation-io-error", 3, r"^slsalint: error: --attestation /proc/self/mem: read failed: Input/output"),
        files(["check", "--attestation", "/proc/self/mem"])),
    Row(Fault("artifact-dev-zero", 2, r"^slsalint: error: --artifact /dev/zero: is a character device"),
        files(["check", "--attestation", "good.json", "--artifact", "/dev/zero"])),
    Row(Fault("artifact-fifo", 2, r"^slsalint: error: --artifact a.bin: is a FIFO, not a regular file$"),
        files(["check", "--attestation", "good.json", "--artifact", "a.bin"], a__bin="FIFO")),
    Row(Fault("policy-dev-zero", 2, r"^slsalint: error: /dev/zero: is a character device, not a regular file$"),
        files(["check", "--attestation", "good.json", "--policy", "/dev/zero"])),
    Row(Fault("policy-fifo", 2, r"^slsalint: error: p.yaml: is a FIFO, not a regular file$"),
        files(["check", "--attestation", "good.json", "--policy", "p.yaml"], p__yaml="FIFO")),
    Row(Fault("policy-missing", 2, r"^slsalint: error: nope.yaml: no such policy file$"),
        files(["check", "--attestation", "good.json", "--policy", "nope.yaml"])),
    Row(Fault("policy-directory", 2, r"^slsalint: error: d: is a directory, not a regular file$"),
        files(["check", "--attestation", "good.json", "--policy", "d"], d="DIR")),
    Row(Fault("policy-utf16", 2, r"^slsalint: error: p.yaml: is not UTF-8 text \(byte 0\)$"),
        policy("version: 1\n".encode("utf-16"))),
    Row(Fault("policy-too-large", 2, r"^slsalint: error: p.yaml: is 1 MiB, larger than the limit of 1 MiB$"),
        policy("version: 1\n#" + "x" * (1024 * 1024))),
    Row(Fault("default-policy-dangling-symlink", 2, r"^slsalint: error: slsalint.yaml: no such policy file$"),
        dangling_default_policy),
    Row(Fault("default-policy-a-directory", 2, r"^slsalint: error: slsalint.yaml: is a directory, not a regular file$"),
        files(["check", "--attestation", "good.json"], slsalint__yaml="DIR")),
    Row(Fault("default-policy-a-fifo-for-exceptions-list", 2, r"^slsalint: error: slsalint.yaml: is a FIFO, not a regular"),
        files(["exceptions", "list", "e.yaml"], slsalint__yaml="FIFO", e__yaml=entry())),
    Row(Fault("policy-io-error", 3, r"^slsalint: error: /proc/self/mem: read failed: Input/output error$"),
        files(["check", "--attestation", "good.json", "--policy", "/proc/self/mem"])),
    Row(Fault("exceptions-dev-zero", 2, r"^slsalint: error: /dev/zero: is a character device, not a regular file$"),
        files(["check", "--attestation", "good.json", "--exceptions", "/dev/zero"])),
    Row(Fault("exceptions-fifo", 2, r"^slsalint: error: e.yaml: is a FIFO, not a regular file$"),
        exceptions("FIFO")),
    Row(Fault("exceptions-missing", 2, r"^slsalint: error: nope.yaml: no such exceptions file; create it with "
              r"`slsalint exceptions add nope.yaml --rule RULE --component COMPONENT --reason REASON "
              r"--owner OWNER --expires YYYY-MM-DD`$"),
        files(["check", "--attestation", "good.json", "--exceptions", "nope.yaml"])),
    Row(Fault("policy-names-a-fifo-as-exceptions", 2, r"^slsalint: error: (\S*/)?w.yaml: is a FIFO, not a regular file$"),
        policy("version: 1\nexceptions: w.yaml\n", w__yaml="FIFO")),
    Row(Fault("key-dev-zero", 2, r"^slsalint: error: --key /dev/zero: cannot read key file: is a character device"),
        files(["check", "--attestation", "good.json", "--key", "/dev/zero"])),
    Row(Fault("key-fifo", 2, r"^slsalint: error: --key k.pub: cannot read key file: is a FIFO, not a regular"),
        files(["check", "--attestation", "good.json", "--key", "k.pub"], k__pub="FIFO")),
    Row(Fault("policy-signer-key-fifo", 2, r"^slsalint: error: p.yaml:3: signers\[0\]: key \S*cosign.pub: cannot read"),
        policy_key_fifo),
    Row(Fault("output-under-a-file", 2, r"^slsalint: error: good.json/x: cannot write report: \S*good.json is not a directory$"),
        files(["check", "--attestation", "good.json", "-o", "good.json/x"])),
    Row(Fault("output-a-directory", 2, r"^slsalint: error: d: is a directory, not a report file$"),
        files(["check", "--attestation", "good.json", "-o", "d"], d="DIR")),
    Row(Fault("output-a-fifo-without-reader", 2, r"^slsalint: error: o.sarif: cannot write report: a FIFO with no reader$"),
        files(["check", "--attestation", "good.json", "--format", "sarif=o.sarif"], o__sarif="FIFO")),
    Row(Fault("output-device-full", 3, r"^slsalint: error: /dev/full: cannot write report: No space left on device$"),
        files(["check", "--attestation", "good.json", "--format", "json=/dev/full"])),
    # --- policy YAML: exit 2 naming the file and line ------------------------------------------
    Row(Fault("policy-month-13", 2, r"^slsalint: error: p.yaml:2: /exceptions-horizon-days: '2026-13-01' is not of type"),
        policy("version: 1\nexceptions-horizon-days: 2026-13-01\n")),
    Row(Fault("policy-300-nested-brackets", 2, r"^slsalint: error: p.yaml:2: invalid YAML: nested more than 64 levels deep$"),
        policy("version: 1\nrules: " + "[" * 300 + "]" * 300 + "\n")),
    Row(Fault("policy-200000-nested-brackets", 2, r"^slsalint: error: p.yaml:2: invalid YAML: nested more than 64"),
        policy("version: 1\nrules: " + "[" * 200_000 + "\n")),
    Row(Fault("policy-sequence-as-key", 2, r"^slsalint: error: p.yaml:2: invalid YAML: a sequence is used as a mapping key"),
        policy("version: 1\n? [a, b]\n: 1\n")),
    Row(Fault("policy-mapping-as-key", 2, r"^slsalint: error: p.yaml:3: invalid YAML: a mapping is used as a mapping key"),
        policy("version: 1\nrules:\n  {SL302: 1}: {level: note}\n")),
    Row(Fault("policy-duplicate-key", 2, r'^slsalint: error: p.yaml:3: invalid YAML: found duplicate key "packs"'),
        policy("version: 1\npacks: [recommended]\npacks: []\n")),
    Row(Fault("policy-billion-laughs", 2, r"^slsalint: error: p.yaml:\d+: invalid YAML: more than 100000 values once"),
        policy("version: 1\n" + laughs())),
    Row(Fault("policy-too-many-aliases", 2, r"^slsalint: error: p.yaml:\d+: invalid YAML: more than 100 aliases$"),
        policy("version: 1\nx: &x 1\nl: [" + ", ".join(["*x"] * 101) + "]\n")),
    Row(Fault("policy-recursive-alias", 2, r"^slsalint: error: p.yaml:2: invalid YAML: alias \*r refers to a collection"),
        policy("version: 1\nrules: &r {SL302: *r}\n")),
    Row(Fault("policy-nan", 2, r"^slsalint: error: p.yaml:2: invalid YAML: .nan is not a finite number$"),
        policy("version: 1\nexceptions-warning-days: .nan\n")),
    Row(Fault("policy-5000-digit-integer", 2, r"^slsalint: error: p.yaml:2: invalid YAML: integer of 5000 digits"),
        policy("version: 1\nexceptions-warning-days: " + "9" * 5000 + "\n")),
    Row(Fault("policy-python-tag", 2, r"^slsalint: error: p.yaml:2: invalid YAML: unsupported YAML tag !!python/object/apply"),
        policy("version: 1\nfail-on: !!python/object/apply:os.system [id]\n")),
    Row(Fault("policy-yaml-1.1", 2, r"^slsalint: error: p.yaml:2: invalid YAML: %YAML 1.1: only YAML 1.2 is read$"),
        policy("%YAML 1.1\n---\nversion: 1\n")),
    Row(Fault("policy-two-documents", 2, r"^slsalint: error: p.yaml:2: invalid YAML: but found another document$"),
        policy("version: 1\n---\nversion: 1\n")),
    Row(Fault("policy-nul-character", 2, r"^slsalint: error: p.yaml:2: invalid YAML: unacceptable character #x0000"),
        policy("version: 1\nfail-on: \x00\n")),
    Row(Fault("policy-empty", 2, r"^slsalint: error: p.yaml: empty policy file \(expected at least 'version: 1'\)$"),
        policy("# nothing\n")),
    Row(Fault("policy-a-list", 2, r"^slsalint: error: p.yaml:1: the policy must be a mapping$"),
        policy("- version: 1\n")),
    Row(Fault("policy-lowers-sl105", 2, r"^slsalint: error: p.yaml:3: SL105 \(envelope-invalid\) is always an error"),
        policy("version: 1\nrules:\n  SL105: {level: note}\n")),
    Row(Fault("policy-configures-sl904", 2, r"^slsalint: error: p.yaml:3: SL904 \(rule-error\) cannot be configured"),
        policy("version: 1\nrules:\n  rule-error: {level: 'off'}\n")),
    Row(Fault("disable-sl105", 2, r"^slsalint: error: --disable envelope-invalid: SL105 \(envelope-invalid\) is always"),
        files(["check", "--attestation", "good.json", "--disable", "envelope-invalid"])),
    Row(Fault("disable-sl904", 2, r"^slsalint: error: --disable SL904: SL904 \(rule-error\) cannot be disabled"),
        files(["check", "--attestation", "good.json", "--disable", "SL904"])),
    # --- exceptions files and commands: exit 2 naming the file, line and rule ------------------
    Row(Fault("exceptions-month-13", 2,
              r"^slsalint: error: e.yaml:7: exception #1 \(SL302 for \*\): expires: '2026-13-01' is not a real date"),
        exceptions(entry(expires="2026-13-01"))),
    Row(Fault("exceptions-300-nested-brackets", 2, r"^slsalint: error: e.yaml:2: invalid YAML: nested more than 64"),
        exceptions("version: 1\nexceptions: " + "[" * 300 + "]" * 300 + "\n")),
    Row(Fault("exceptions-sequence-as-key", 2, r"^slsalint: error: e.yaml:3: invalid YAML: a sequence is used as a mapping"),
        exceptions("version: 1\nexceptions:\n  - ? [rule]\n    : SL302\n")),
    Row(Fault("exceptions-duplicate-key", 2, r'^slsalint: error: e.yaml:4: invalid YAML: found duplicate key "rule"'),
        exceptions(entry().replace("    component:", "    rule: SL303\n    component:"))),
    Row(Fault("exceptions-billion-laughs", 2, r"^slsalint: error: e.yaml:\d+: invalid YAML: more than 100000 values"),
        exceptions("version: 1\nexceptions: []\n" + laughs())),
    Row(Fault("exceptions-waive-sl904-everywhere", 2,
              r"^slsalint: error: e.yaml:3: exception #1 \(SL904 for \*\): SL904 \(rule-error\) means a rule that could "
              r"not be evaluated \(slsalint could not judge\), which is never waivable$"),
        exceptions(entry("SL904"))),
    Row(Fault("exceptions-waive-sl105-by-name", 2,
              r"^slsalint: error: e.yaml:3: exception #1 \(envelope-invalid for \*\): SL105 \(envelope-invalid\) means"),
        exceptions(entry("envelope-invalid"))),
    Row(Fault("exceptions-waive-sl105-lowercase", 2, r"^slsalint: error: e.yaml:3: .*SL105 \(envelope-invalid\) means"),
        exceptions(entry("sl105"))),
    Row(Fault("exceptions-wildcard-rule", 2,
              r"^slsalint: error: e.yaml:3: exception #1 \(\* for \*\): rule '\*' is a wildcard; .*never waivable\)$"),
        exceptions(entry("'*'"))),
    Row(Fault("exceptions-glob-rule", 2, r"^slsalint: error: e.yaml:3: exception #1 \(SL9\* for \*\): rule 'SL9\*' is a"),
        exceptions(entry("'SL9*'"))),
    Row(Fault("exceptions-empty", 2, r"^slsalint: error: e.yaml: empty exceptions file"), exceptions("\n\n")),
    Row(Fault("exceptions-add-sl904", 2,
              r"^slsalint: error: --rule SL904: SL904 \(rule-error\) means a rule that could not be evaluated"),
        add("SL904")),
    Row(Fault("exceptions-add-envelope-invalid", 2, r"^slsalint: error: --rule envelope-invalid: SL105 \(envelope-"),
        add("envelope-invalid")),
    Row(Fault("exceptions-add-wildcard", 2, r"^slsalint: error: --rule SL10\?: rule 'SL10\?' is a wildcard"),
        add("SL10?")),
    Row(Fault("exceptions-add-to-a-fifo", 2, r"^slsalint: error: e.yaml: is a FIFO, not a regular file$"),
        files([*ADD, "--rule", "SL302", "--expires", EXPIRES], e__yaml="FIFO")),
    Row(Fault("exceptions-list-dev-zero", 2, r"^slsalint: error: /dev/zero: is a character device, not a regular"),
        files(["exceptions", "list", "/dev/zero"])),
    Row(Fault("exceptions-audit-names-sl904", 2, r"^slsalint: error: e.yaml:3: exception #1 \(SL904 for \*\): SL904"),
        files(["exceptions", "audit", "e.yaml"], e__yaml=entry("SL904"))),
    Row(Fault("exceptions-renew-sl105", 2, r"^slsalint: error: --rule SL105: SL105 \(envelope-invalid\) means"),
        files(["exceptions", "renew", "e.yaml", "--rule", "SL105", "--component", "*", "--expires", EXPIRES],
              e__yaml=entry())),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=ids([r.fault for r in ROWS]))
def test_input_fault(row: Row, tmp_path: Path) -> None:
    args = row.setup(tmp_path)
    outcome = run(*args, cwd=tmp_path, timeout=120)
    assert_fault(row.fault, outcome)
