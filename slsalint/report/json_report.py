"""The versioned JSON report ``slsalint.report/v1`` (schema: ``schemas/report-v1.json``).

Keys appear in a fixed order; every optional value is present and ``null`` when unknown, so
consumers can rely on the shape. The schema is closed: a change of shape changes the schema too,
and renaming or removing a key needs a new document version.
"""

from __future__ import annotations

from typing import Any

from slsalint.model import Attestation, Finding, PlatformTarget, Report, RuleMeta, TargetResult
from slsalint.report._common import TOOL_NAME, all_rules, dump_json

VERSION = "slsalint.report/v1"

__all__ = ["VERSION", "document", "render"]


def render(report: Report, **_: Any) -> str:
    """Render ``report`` as pretty-printed JSON (2-space indent, trailing newline)."""
    return dump_json(document(report))


def document(report: Report) -> dict[str, Any]:
    """The report as plain JSON data, keys in schema order."""
    counts = report.counts()
    return {
        "version": VERSION,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "failOn": report.fail_on.value,
        "exitCode": report.exit_code,
        "summary": {
            "error": counts["error"],
            "warning": counts["warning"],
            "note": counts["note"],
            "waived": counts["waived"],
            "targets": len(report.results),
        },
        "rules": [_rule(r) for r in all_rules(report)],
        "targets": [_target(r) for r in report.results],
    }


def _rule(rule: RuleMeta) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "level": rule.level.value,
        "summary": rule.summary,
        "helpUri": rule.help_uri or None,
    }


def _target(result: TargetResult) -> dict[str, Any]:
    target = result.target
    out = {
        "reference": target.reference,
        "kind": target.kind,
        "indexDigest": target.index_digest,
        "platforms": [_platform(p) for p in target.platforms],
        "findings": [_finding(f) for f in result.findings],
    }
    if result.vsa is not None:  # only for images passed by a VSA (check --accept-vsa)
        out["passedByVsa"] = result.vsa.to_json()
    return out


def _platform(pt: PlatformTarget) -> dict[str, Any]:
    return {
        "platform": str(pt.platform) if pt.platform else None,
        "digest": pt.digest,
        "attestations": [_attestation(a) for a in pt.attestations],
    }


def _attestation(att: Attestation) -> dict[str, Any]:
    prov = att.provenance
    return {
        "source": {"kind": att.source.kind, "location": att.source.location, "digest": att.source.digest},
        "envelope": att.envelope,
        "predicateType": att.predicate_type,
        "subjects": [{"name": s.name, "digest": dict(s.digest)} for s in att.subjects],
        "provenance": None
        if prov is None
        else {
            "builderId": prov.builder_id,
            "buildType": prov.build_type,
            "flavor": prov.flavor,
            "slsaVersion": prov.slsa_version,
            "mode": prov.mode.value,
            "sourceRepository": prov.source_repository,
            "sourceRef": prov.source_ref,
            "sourceCommit": prov.source_commit,
        },
        "verification": _verification(att.verification),
    }


def _verification(verification: Any) -> dict[str, Any] | None:
    """Who signed, how it verified, and the transparency-log evidence; None when unsigned."""
    if verification is None:
        return None
    identity = verification.identity
    return {
        "verified": bool(verification.verified),
        "method": verification.method,
        "signer": identity.subject if identity is not None else None,
        "issuer": identity.issuer if identity is not None else None,
        "github": dict(identity.github) if identity is not None else {},
        "certificate": identity.certificate_pem if identity is not None else None,
        "keyFingerprint": identity.key_fingerprint if identity is not None else None,
        "logIndex": verification.log_index,
        "integratedTime": verification.integrated_time.isoformat() if verification.integrated_time else None,
        "problems": [{"ruleId": p.rule_id, "message": p.message} for p in verification.problems],
    }


def _finding(f: Finding) -> dict[str, Any]:
    w = f.waiver
    return {
        "ruleId": f.rule_id,
        "ruleName": f.rule_name,
        "level": f.level.value,
        "message": f.message,
        "image": f.image,
        "platform": f.platform,
        "digest": f.digest,
        "source": f.source,
        "pointer": f.pointer,
        "expected": f.expected,
        "actual": f.actual,
        "remediation": f.remediation,
        "fingerprint": f.fingerprint(),
        "waived": f.waived,
        "waiver": None
        if w is None
        else {"reason": w.reason, "owner": w.owner, "expires": w.expires, "ticket": w.ticket},
    }
