"""Many images in one run, and one run spread over many machines.

- ``read_image_list``: the images of ``check --images FILE`` — one reference per line (``#``
  comments and blank lines allowed), or a Conforma snapshot (JSON or YAML with
  ``components[].containerImage``, at the top level or under ``spec`` as in a Snapshot resource).
- ``shard_of`` / ``select_shard``: ``--shard K/N`` keeps the images whose name hashes to shard K
  (0-based, like GitHub's ``strategy.job-index`` and Kubernetes' ``JOB_COMPLETION_INDEX``). The
  name is the reference without its digest, so a rebuilt image stays on its shard.
- ``merge_documents`` / ``report_from_document``: ``report merge`` joins JSON reports of one
  policy into one report (targets in reference order, counts and exit code recomputed) and turns
  it back into a ``Report`` any renderer can write.

Nothing here prints or exits; bad input raises ``ConfigError`` (exit 2) with one line naming the
file (and line) and the problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slsalint.errors import ConfigError
from slsalint.model import (
    Attestation,
    EvidenceSource,
    Finding,
    Level,
    Platform,
    PlatformTarget,
    ProvenanceMode,
    ProvenanceView,
    Report,
    RuleMeta,
    RunError,
    Subject,
    Target,
    TargetResult,
    Waiver,
)

MAX_IMAGES = 100_000
"""Most images one ``--images`` list may name."""
MAX_LIST_BYTES = 64 * 1024 * 1024
"""Largest ``--images`` file (or standard input) read."""
REPORT_VERSION = "slsalint.report/v1"

_SNAPSHOT_START = re.compile(r"^(?:\{|---\s*$|(?:apiVersion|kind|spec|application|components)\s*:)")


# -- image lists ---------------------------------------------------------------------------------


def read_image_list(text: str, name: str) -> list[str]:
    """The references ``text`` names, in order, each once. ``name`` is how messages call the
    input (a path, or ``-`` for standard input)."""
    meaningful = [line.strip() for line in text.splitlines() if line.strip() and not _comment(line)]
    if meaningful and _SNAPSHOT_START.match(meaningful[0]):
        references = _snapshot_images(text, name)
    else:
        references = _line_images(text, name)
    if len(references) > MAX_IMAGES:
        raise ConfigError(f"--images {name}: {len(references)} images, more than the limit of {MAX_IMAGES}")
    return list(dict.fromkeys(references))


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _line_images(text: str, name: str) -> list[str]:
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()  # no reference contains '#'
        if not line:
            continue
        if any(c.isspace() for c in line):
            raise ConfigError(f"--images {name}:{number}: one reference per line, got {line!r}")
        out.append(_checked_reference(line, f"{name}:{number}"))
    return out


def _snapshot_images(text: str, name: str) -> list[str]:
    document = _parse_snapshot(text, name)
    if isinstance(document, dict) and isinstance(document.get("spec"), dict) and "components" not in document:
        document = document["spec"]
    components = document.get("components") if isinstance(document, dict) else None
    if not isinstance(components, list):
        raise ConfigError(f"--images {name}: a snapshot needs a 'components' list")
    out = []
    for index, component in enumerate(components):
        where = f"{name}: components[{index}]"
        image = component.get("containerImage") if isinstance(component, dict) else None
        if not isinstance(image, str) or not image.strip():
            raise ConfigError(f"--images {where}: no containerImage")
        out.append(_checked_reference(image.strip(), where))
    return out


def _parse_snapshot(text: str, name: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        from slsalint import jsonio

        try:
            return jsonio.loads(stripped)
        except jsonio.JSONError as exc:
            raise ConfigError(f"--images {name}: {exc}") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        documents = list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"--images {name}: invalid YAML: {problem}") from None
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise ConfigError(f"--images {name}: expected one snapshot document, found {len(documents)}")
    return documents[0]


def _checked_reference(reference: str, where: str) -> str:
    if reference.startswith("oci:"):
        if len(reference) == 4:
            raise ConfigError(f"--images {where}: missing layout path after 'oci:'")
        return reference
    from slsalint.sources.reference import parse_reference

    try:
        parse_reference(reference)
    except ConfigError as exc:
        raise ConfigError(f"--images {where}: {exc}") from None
    return reference


# -- shards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    index: int
    """0-based."""
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 0 <= K < N; ConfigError otherwise."""
        match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text, flags=re.ASCII)
        if match is None:
            shown = text if text.isprintable() else repr(text)
            raise ConfigError(f"--shard {shown}: expected K/N (shard K of N, counted from 0)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1:
            raise ConfigError(f"--shard {text}: the shard count must be at least 1")
        if index >= count:
            raise ConfigError(f"--shard {text}: K must be below N (shards are counted from 0 to {count - 1})")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_name(reference: str) -> str:
    """What decides an image's shard: the reference without its digest (``registry/repo:tag``,
    ``oci:PATH:TAG``), normalised, so a new build of the same tag keeps its shard."""
    if reference.startswith("oci:"):
        return reference.rsplit("@", 1)[0] if "@sha256:" in reference else reference
    from slsalint.sources.reference import parse_reference

    ref = parse_reference(reference)
    return f"{ref.name}:{ref.tag}" if ref.tag else ref.name


def shard_of(reference: str, count: int) -> int:
    """The shard (0-based, of ``count``) an image belongs to; the same on every machine and run."""
    digest = hashlib.sha256(shard_name(reference).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def select_shard(references: list[str], shard: Shard) -> list[str]:
    return [r for r in references if shard_of(r, shard.count) == shard.index]


# -- report merge --------------------------------------------------------------------------------


def merge_documents(
    documents: list[tuple[str, dict[str, Any]]], *, order: list[str] | None = None
) -> dict[str, Any]:
    """Join JSON reports (``(name, document)`` pairs, each already valid against the report
    schema) into one: the rules of the common policy, every target once, counts and exit code
    recomputed. Targets are in the order of ``order`` (the image list the shards were cut from,
    so the merge equals one run over it), else in reference order. Reports of another version,
    another policy (fail-on level or rules at their levels) or another slsalint version are
    refused, and so is an image that two reports both checked."""
    if not documents:
        raise ConfigError("report merge: no reports given")
    first_name, first = documents[0]
    # The policy is that of the reports that judged their images: a stopped run ran no rule.
    judged_name, judged = next(((n, d) for n, d in documents if d.get("error") is None), documents[0])
    targets: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for name, document in documents:
        if document.get("version") != REPORT_VERSION:
            raise ConfigError(
                f"{name}: report version {document.get('version')!r}, expected {REPORT_VERSION!r}"
            )
        if document["tool"] != first["tool"]:
            raise ConfigError(
                f"{name}: written by slsalint {document['tool']['version']}, {first_name} by "
                f"{first['tool']['version']}: merge reports of one slsalint version"
            )
        if document.get("error") is None and (
            document["failOn"] != judged["failOn"] or _policy_rules(document) != _policy_rules(judged)
        ):
            raise ConfigError(
                f"{name}: checked with another policy than {judged_name} "
                f"({_policy_difference(judged, document)}): merge reports of one policy"
            )
        for target in document["targets"]:
            reference = target["reference"]
            if reference in seen:
                raise ConfigError(f"{name}: {reference} was already checked in {seen[reference]}")
            seen[reference] = name
            targets.append(target)
    error = _merged_error(documents)
    if not targets and error is None:
        count = len(documents)
        raise ConfigError(f"report merge: the {count} reports checked no image, so nothing was judged")
    targets.sort(key=_target_order(order))
    fail_on = Level(judged["failOn"])
    return {
        "version": REPORT_VERSION,
        "tool": first["tool"],
        "failOn": judged["failOn"],
        "exitCode": error["exitCode"] if error is not None else _exit_code(targets, fail_on),
        "error": error,
        "summary": {**_counts(targets), "targets": len(targets)},
        "rules": _merged_rules(documents),
        "targets": targets,
    }


def _merged_error(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """A report of a run that stopped (exit 2, 3 or 4) judged none of its images: the merge of it
    never passes. The merged error names the first such report (and how many more there are) and
    takes the highest exit code among them."""
    stopped = [(name, document["error"]) for name, document in documents if document.get("error")]
    if not stopped:
        return None
    name, first = stopped[0]
    more = f" (and {len(stopped) - 1} more stopped reports)" if len(stopped) > 1 else ""
    return {
        "kind": first["kind"],
        "message": f"{name}: the run stopped: {first['message']}{more}",
        "exitCode": max(int(error["exitCode"]) for _, error in stopped),
    }


def _target_order(order: list[str] | None) -> Callable[[dict[str, Any]], tuple[int, str]]:
    """Sort key: the position of the target's image in ``order`` (matched by name without digest,
    as shards are cut), then its reference."""
    position: dict[str, int] = {}
    for index, reference in enumerate(order or []):
        position.setdefault(_name_of(reference), index)
    last = len(position)

    def key(target: dict[str, Any]) -> tuple[int, str]:
        reference = str(target["reference"])
        return position.get(_name_of(reference), last), reference

    return key


def _name_of(reference: str) -> str:
    try:
        return shard_name(reference)
    except ConfigError:  # not a reference (a file list, an artifact): only its text matches
        return reference


def _policy_rules(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The rules a report ran, at their levels. A rule that a finding named without the run
    listing it (the report adds it with its name as summary and no help) depends on the images,
    not on the policy, and is left out."""
    return {(r["id"], r["level"]) for r in document["rules"] if not _unlisted(r)}


def _unlisted(rule: dict[str, Any]) -> bool:
    return rule["helpUri"] is None and rule["summary"] == rule["name"]


def _policy_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    if a["failOn"] != b["failOn"]:
        return f"fail-on {b['failOn']} instead of {a['failOn']}"
    only_b = sorted(_policy_rules(b) - _policy_rules(a))
    only_a = sorted(_policy_rules(a) - _policy_rules(b))
    parts = [f"{rid} at {lvl}" for rid, lvl in only_b[:3]]
    parts += [f"no {rid} at {lvl}" for rid, lvl in only_a[:3]]
    return "rules differ: " + ", ".join(parts)


def _merged_rules(documents: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, document in documents:
        for rule in document["rules"]:
            out.setdefault(rule["id"], rule)
    return list(out.values())


def _counts(targets: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "note": 0, "waived": 0}
    for target in targets:
        for finding in target["findings"]:
            if finding["waived"]:
                counts["waived"] += 1
            elif finding["level"] in counts:
                counts[finding["level"]] += 1
    return counts


def _exit_code(targets: list[dict[str, Any]], fail_on: Level) -> int:
    for target in targets:
        for finding in target["findings"]:
            if not finding["waived"] and Level(finding["level"]).at_least(fail_on):
                return 1
    return 0


def report_from_document(document: dict[str, Any]) -> Report:
    """A report document (valid against the report schema) as a ``Report`` for the renderers.
    Built-in rules get their documentation back from the rule catalogue; what a JSON report does
    not keep (statements, signatures) is not there."""
    from slsalint.checks import find_check

    rules = []
    for raw in document["rules"]:
        check = find_check(raw["id"])
        doc = check.meta().doc if check is not None and check.id == raw["id"] else ""
        severity = check.meta().security_severity if check is not None and check.id == raw["id"] else 5.0
        rules.append(
            RuleMeta(
                id=raw["id"],
                name=raw["name"],
                level=Level(raw["level"]),
                summary=raw["summary"],
                doc=doc,
                security_severity=severity,
                help_uri=raw["helpUri"] or "",
            )
        )
    results = [_target_result(raw) for raw in document["targets"]]
    error = document.get("error")
    return Report(
        tool_version=document["tool"]["version"],
        results=results,
        rules=rules,
        fail_on=Level(document["failOn"]),
        error=None
        if error is None
        else RunError(message=error["message"], exit_code=error["exitCode"], kind=error["kind"]),
    )


def _target_result(raw: dict[str, Any]) -> TargetResult:
    platforms = [
        PlatformTarget(
            digest=p["digest"],
            platform=Platform.parse(p["platform"]) if p["platform"] else None,
            attestations=[_attestation(a) for a in p["attestations"]],
        )
        for p in raw["platforms"]
    ]
    target = Target(
        reference=raw["reference"],
        kind=raw["kind"],
        index_digest=raw["indexDigest"],
        platforms=platforms,
        is_index=raw["indexDigest"] is not None,
    )
    result = TargetResult(target=target, findings=[_finding(f) for f in raw["findings"]])
    if raw.get("passedByVsa") is not None:
        result.vsa = _accepted_vsa(raw["passedByVsa"])
    return result


def _accepted_vsa(raw: dict[str, Any]) -> Any:
    """The VSA an image passed by (``check --accept-vsa``), as the reports show it."""
    import datetime as dt

    from slsalint.vsa.accept import AcceptedVsa

    return AcceptedVsa(
        location=raw["location"],
        digest=raw["digest"],
        verifier_id=raw["verifier"],
        time_verified=dt.datetime.fromisoformat(raw["timeVerified"]),
        age=dt.timedelta(seconds=raw["ageSeconds"]),
        policy_digest=raw["policyDigest"],
        keyid=raw["keyId"],
        result=raw["verificationResult"],
        levels=tuple(raw["verifiedLevels"]),
    )


def _attestation(raw: dict[str, Any]) -> Attestation:
    source = raw["source"]
    prov = raw["provenance"]
    view = None
    if prov is not None:
        view = ProvenanceView(
            predicate_type=raw["predicateType"],
            slsa_version=prov["slsaVersion"],
            flavor=prov["flavor"],
            builder_id=prov["builderId"],
            builder_pointer="",
            build_type=prov["buildType"],
            source_repository=prov["sourceRepository"],
            source_ref=prov["sourceRef"],
            source_commit=prov["sourceCommit"],
            source_pointer=None,
            materials=(),
            build_args={},
            build_args_pointer=None,
            mode=ProvenanceMode(prov["mode"]),
        )
    return Attestation(
        source=EvidenceSource(source["kind"], source["location"], source["digest"]),
        envelope=raw["envelope"],
        statement={},
        payload=b"",
        predicate_type=raw["predicateType"],
        subjects=tuple(Subject(name=s["name"], digest=dict(s["digest"])) for s in raw["subjects"]),
        provenance=view,
    )


def _finding(raw: dict[str, Any]) -> Finding:
    waiver = raw["waiver"]
    return Finding(
        rule_id=raw["ruleId"],
        rule_name=raw["ruleName"],
        level=Level(raw["level"]),
        message=raw["message"],
        image=raw["image"],
        platform=raw["platform"],
        digest=raw["digest"],
        source=raw["source"],
        pointer=raw["pointer"],
        expected=raw["expected"],
        actual=raw["actual"],
        remediation=raw["remediation"],
        waiver=None
        if waiver is None
        else Waiver(
            reason=waiver["reason"], owner=waiver["owner"], expires=waiver["expires"], ticket=waiver["ticket"]
        ),
    )
