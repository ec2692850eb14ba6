"""Making VSAs from a check's report: one in-toto Statement per checked image, DSSE-signed, written
as JSON Lines (``.intoto.jsonl``).

- ``subject``: the index digest (when the image is an index) and every checked platform digest,
  named by the image's repository (platforms carry a ``platform`` annotation);
- ``verifier``: ``--verifier-id`` and ``{"slsalint": VERSION}``; ``timeVerified``: when the check ran;
- ``resourceUri``: the reference as it was given to ``check`` (``ghcr.io/org/app:v1.2.0``);
- ``policy``: ``--vsa-policy-uri`` (default ``file:POLICY`` or ``slsalint:pack/NAME+NAME``) and
  the policy digest (:mod:`slsalint.vsa.policy_digest`);
- ``inputAttestations``: every attestation that was judged for the image (each statement once),
  ``uri`` = where it was read (``oci://REGISTRY/REPO@sha256:…``, ``oci:LAYOUT@…``, ``file:PATH``,
  the GitHub API URL), ``digest.sha256`` = SHA-256 of the statement's bytes (the DSSE payload);
- ``verificationResult``: PASSED when no unwaived finding at or above ``--fail-on`` remains for the
  image, else FAILED; ``verifiedLevels``: ``["FAILED"]`` when failed, else ``SLSA_BUILD_LEVEL_n``
  for the highest ``slsa-build-ln`` pack that ran with every one of its rules at (at least) the
  pack's level and none of them reporting anything for the image (waived findings included), else
  ``[]``; ``slsaVersion``: ``1.0``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from slsalint.envelopes import IN_TOTO_PAYLOAD_TYPE, pae
from slsalint.errors import ConfigError
from slsalint.model import Attestation, Level, Report, TargetResult
from slsalint.vsa.predicate import FAILED, PASSED, InputAttestation, SubjectEntry, build_statement

if TYPE_CHECKING:
    from slsalint.vsa.keys import SigningKey

BUILD_PACKS = {"slsa-build-l2": 2, "slsa-build-l3": 3}
_SCHEME = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*:(?![0-9])")


@dataclass(frozen=True)
class VsaSettings:
    """What ``check --vsa`` was asked to make."""

    path: Path
    key: SigningKey
    verifier_id: str
    policy_uri: str
    policy_digest: str
    push: bool = False
    push_cosign: bool = False


@dataclass(frozen=True)
class Produced:
    result: TargetResult
    resource: str
    statement: dict[str, Any]
    envelope: dict[str, Any]

    @property
    def line(self) -> bytes:
        return json.dumps(self.envelope, separators=(",", ":")).encode("utf-8") + b"\n"

    @property
    def subject_digest(self) -> str:
        """The digest the VSA is attached to in a registry (the index, or the single manifest)."""
        target = self.result.target
        return target.index_digest or target.platforms[0].digest


def sign_envelope(statement: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """A DSSE envelope over the statement's canonical bytes, signed with ``key``."""
    payload = json.dumps(statement, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    signature = key.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload))
    return {
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key.keyid, "sig": base64.b64encode(signature).decode("ascii")}],
    }


def default_policy_uri(policy_path: Path | None, packs: Sequence[str]) -> str:
    if policy_path is not None:
        return "file:" + quote(policy_path.as_posix(), safe="/:._-~")
    return "slsalint:pack/" + "+".join(quote(p, safe="._-") for p in packs)


def check_verifier_id(value: str, what: str = "--verifier-id") -> str:
    """A verifier id must be an absolute URI (the spec's TypeURI)."""
    from slsalint.schemas import is_format

    text = value.strip()
    if not text or not _SCHEME.match(text) or not is_format("uri", text):
        raise ConfigError(f"{what} {value!r}: expected an absolute URI, e.g. https://ci.example.com/gate")
    return text


def attestation_uri(attestation: Attestation) -> str:
    """Where an attestation was read, as a URI (see the module doc)."""
    source = attestation.source
    location = source.location
    if source.kind == "file":
        return "file:" + quote(
            location.rsplit(":", 1)[0] if location.rsplit(":", 1)[-1].isdigit() else location
        )
    if _SCHEME.match(location):
        return quote(location, safe="/:@._-~+=?&%#")
    # registry evidence: the repository and the digest of the blob that held it
    name = location.split("@", 1)[0]
    head, _, tail = name.rpartition("/")
    if ":" in tail:
        name = f"{head}/{tail.split(':', 1)[0]}"
    blob = source.digest or location.rsplit("@", 1)[-1]
    return "oci://" + quote(f"{name}@{blob}", safe="/:@._-~+")


def _judged(result: TargetResult) -> list[Attestation]:
    seen: set[int] = set()
    out = []
    target = result.target
    for attestation in [a for p in target.platforms for a in p.attestations] + target.unmatched:
        if id(attestation) not in seen:
            seen.add(id(attestation))
            out.append(attestation)
    return out


def inputs_of(result: TargetResult) -> list[InputAttestation]:
    import hashlib

    entries: dict[tuple[str, str], InputAttestation] = {}
    for attestation in _judged(result):
        digest = hashlib.sha256(attestation.payload).hexdigest()
        uri = attestation_uri(attestation)
        entries.setdefault((uri, digest), InputAttestation(uri=uri, digest={"sha256": digest}))
    return sorted(entries.values(), key=lambda i: (i.uri, i.digest["sha256"]))


def passed(report: Report, result: TargetResult) -> bool:
    failing = [f for f in result.findings if not f.waived and f.level.at_least(report.fail_on)]
    return not failing and bool(result.target.platforms)


def verified_levels(report: Report, result: TargetResult) -> list[str]:
    """See the module doc; the pack rules at their pack levels against the run's plan."""
    from slsalint.checks import find_check
    from slsalint.policy import load_pack

    if not passed(report, result):
        return [FAILED]
    ran = {meta.id: meta.level for meta in report.rules}
    best = 0
    for name in report.packs:
        level = BUILD_PACKS.get(name)
        if level is None or level <= best:
            continue
        pack = load_pack(name)
        ok = True
        for rule_id, setting in pack.rules.items():
            check = find_check(rule_id)
            wanted = setting.level or (check.level if check is not None else Level.ERROR)
            if rule_id not in ran or not ran[rule_id].at_least(wanted):
                ok = False
                break
        if ok and any(f.rule_id in pack.rules for f in result.findings):
            ok = False
        if ok:
            best = level
    return [f"SLSA_BUILD_LEVEL_{best}"] if best else []


def _image_name(reference: str) -> str:
    if reference.startswith("oci:"):
        return reference.split("@", 1)[0]
    if reference.startswith("artifact "):
        return reference.removeprefix("artifact ")
    from slsalint.sources.reference import parse_reference

    try:
        return parse_reference(reference).name
    except ConfigError:
        return reference


def subjects_of(result: TargetResult) -> list[SubjectEntry]:
    target = result.target
    name = _image_name(target.reference)
    out: list[SubjectEntry] = []
    if target.index_digest:
        algorithm, _, value = target.index_digest.partition(":")
        out.append(SubjectEntry(name=name, digest={algorithm: value}))
    for platform in target.platforms:
        if not platform.digest or platform.digest == target.index_digest:
            continue
        algorithm, _, value = platform.digest.partition(":")
        annotations = {"platform": str(platform.platform)} if platform.platform else {}
        out.append(SubjectEntry(name=name, digest={algorithm: value}, annotations=annotations))
    return out


def make_vsas(
    report: Report, resources: Sequence[str], settings: VsaSettings, *, now: dt.datetime
) -> list[Produced]:
    """One signed VSA per checked image of ``report`` (``resources[i]`` is the reference the i-th
    image was given as). Images passed by an accepted VSA get none: that VSA stays the record."""
    from slsalint import __version__

    out = []
    for result, resource in zip(report.results, resources, strict=True):
        if getattr(result, "vsa", None) is not None:
            continue
        subjects = subjects_of(result)
        if not subjects:
            raise ConfigError(
                f"{resource}: no digest to make a VSA for (give a TARGET, --subject or --artifact)"
            )
        ok = passed(report, result)
        statement = build_statement(
            subjects=subjects,
            verifier_id=settings.verifier_id,
            verifier_version={"slsalint": __version__},
            time_verified=now,
            resource_uri=resource,
            policy_uri=settings.policy_uri,
            policy_digest={"sha256": settings.policy_digest.removeprefix("sha256:")},
            input_attestations=inputs_of(result),
            result=PASSED if ok else FAILED,
            levels=verified_levels(report, result),
        )
        out.append(Produced(result, resource, statement, sign_envelope(statement, settings.key)))
    return out


def write_vsas(produced: Sequence[Produced], path: Path) -> list[Path]:
    """Write the VSAs: into ``path`` as JSON Lines (one envelope per image), or, when ``path`` is a
    directory, one ``sha256-HEX.intoto.jsonl`` file per image. Returns the files written."""
    if path.is_dir():
        written = []
        for item in produced:
            name = item.subject_digest.replace(":", "-") + ".intoto.jsonl"
            _write(path / name, item.line)
            written.append(path / name)
        return written
    _write(path, b"".join(item.line for item in produced))
    return [path]


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader never sees half a file."""
    import os

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"--vsa {path}: cannot write: {exc.strerror or exc}") from None
