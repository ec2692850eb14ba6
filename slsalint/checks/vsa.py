"""Rules SL601-SL609: what ``slsalint verify-vsa`` (and ``check --accept-vsa``) finds wrong with a
Verification Summary Attestation. They judge a VSA, not provenance, so no pack runs them; they
are in the catalogue (``rules list``/``rules show``, docs/rules/) like every other rule.

A VSA whose bytes cannot be read (not JSON, not a DSSE envelope, bad base64, a payload type that is
not in-toto) is SL105, and one whose statement or predicate fails its JSON Schema is SL104, as for
any other attestation.
"""

from __future__ import annotations

import inspect

from slsalint.checks.base import DOCS_BASE
from slsalint.model import Level, RuleMeta


def _rule(rule_id: str, name: str, summary: str, doc: str, severity: float) -> RuleMeta:
    return RuleMeta(
        id=rule_id,
        name=name,
        level=Level.ERROR,
        summary=summary,
        doc=inspect.cleandoc(doc),
        options_schema={"type": "object", "additionalProperties": False},
        security_severity=severity,
        help_uri=f"{DOCS_BASE}/{rule_id}.md",
    )


VSA_MISSING = _rule(
    "SL601",
    "vsa-missing",
    "No Verification Summary Attestation found for the subject",
    """
    There is no VSA to verify: the attestation file holds no statement with predicate type
    `https://slsa.dev/verification_summary/v1`, or the image carries none (OCI referrers, the
    `sha256-<hex>` fallback tag, cosign's `sha256-<hex>.att` tag).

    **What it checks.** `slsalint verify-vsa` reads every statement of `--attestation-path` (one
    envelope per line of an `.intoto.jsonl`) or every VSA attached to the image's digest, and
    reports this when none is a VSA.

    **Why it matters.** A deploy gate that trusts VSAs must refuse an artifact that has none:
    "nobody verified it" is not a pass.

    **How to fix.** Produce the VSA where the image is checked: `slsalint check IMAGE --vsa
    vsa.intoto.jsonl --vsa-key KEY --verifier-id URI --vsa-push`.

    **Passing example.** An image with a VSA referrer pushed by `check --vsa-push`.

    **Failing example.** `verify-vsa --attestation-path provenance.intoto.jsonl` (provenance only).
    """,
    7.0,
)

VSA_SIGNATURE_INVALID = _rule(
    "SL602",
    "vsa-signature-invalid",
    "The VSA's DSSE signature does not verify with the given public key",
    """
    No signature of the VSA's DSSE envelope verifies over the PAE with `--public-key-path` (or,
    for `check --accept-vsa`, with a trusted key).

    **What it checks.** The DSSE signatures, as slsa-verifier checks them: the key id of the
    public key is `--public-key-id`, or by default go-securesystemslib's `SHA256:` fingerprint of
    the key; a signature that names another non-empty `keyid` is not tried. ECDSA signatures are
    checked with the curve's hash, RSA with PKCS#1 v1.5 or PSS, Ed25519 as pure Ed25519.

    **Why it matters.** Anyone can write a VSA that says PASSED; only the signature of the
    verifier you trust makes it mean anything. A changed payload under an old signature is
    tampering.

    **How to fix.** Verify with the public key of the verifier that signed it (and its key id if
    the VSA names one), or re-create the VSA with `check --vsa-key`.

    **Passing example.** A VSA signed with `--vsa-key cosign.key`, verified with `cosign.pub`.

    **Failing example.** The same VSA with one byte of its payload changed, or verified with
    another key.
    """,
    9.0,
)

VSA_SUBJECT_MISMATCH = _rule(
    "SL603",
    "vsa-subject-mismatch",
    "An expected subject digest is not among the VSA's subjects",
    """
    The VSA is about other artifacts: a digest given with `--subject-digest` (or the image's
    digest) is not one of its subjects.

    **What it checks.** Every expected `ALG:VALUE` digest must be the digest of a subject of the
    VSA (slsa-verifier's rule: all of them, compared exactly).

    **Why it matters.** A genuine VSA for another image proves nothing about this one; copying a
    passing VSA next to another image is the obvious attack.

    **How to fix.** Verify the digest the VSA was made for, or produce a VSA for this image.

    **Passing example.** `--subject-digest sha256:<index digest>` for a VSA of that index.

    **Failing example.** The same VSA checked for a rebuilt image's digest.
    """,
    8.5,
)

VSA_VERIFIER_MISMATCH = _rule(
    "SL604",
    "vsa-verifier-mismatch",
    "The VSA's verifier.id is not the expected verifier",
    """
    The VSA names another verifier than `--verifier-id`, or none.

    **What it checks.** `predicate.verifier.id` must equal `--verifier-id` exactly.

    **Why it matters.** The SLSA spec asks consumers to accept only specific (signer, verifier)
    pairs: a key trusted for one gate must not vouch for another.

    **How to fix.** Verify with the verifier id the producer uses (`check --verifier-id`).

    **Passing example.** `--verifier-id https://ci.example.com/slsalint-gate` for a VSA made with
    that id.

    **Failing example.** A VSA whose verifier is `https://ci.example.com/other-gate`.
    """,
    7.5,
)

VSA_RESOURCE_URI_MISMATCH = _rule(
    "SL605",
    "vsa-resource-uri-mismatch",
    "The VSA's resourceUri is not the expected resource",
    """
    The VSA was made for another resource than `--resource-uri`, or names none.

    **What it checks.** `predicate.resourceUri` must equal `--resource-uri` exactly. slsalint
    writes the image reference as it was checked (`ghcr.io/org/app:v1.2.0`).

    **Why it matters.** The resource tells what the verifier was asked about: a VSA made for a
    staging repository must not admit the image into production under another name.

    **How to fix.** Verify with the reference the image was checked as, or check it again under
    the name it is deployed as.

    **Passing example.** `--resource-uri ghcr.io/org/app:v1.2.0` for a VSA from
    `check ghcr.io/org/app:v1.2.0`.

    **Failing example.** The same VSA verified as `ghcr.io/org/app-staging:v1.2.0`.
    """,
    7.0,
)

VSA_RESULT_FAILED = _rule(
    "SL606",
    "vsa-result-failed",
    "The VSA's verificationResult is not PASSED",
    """
    The verifier looked at the artifact and it failed the policy.

    **What it checks.** `predicate.verificationResult` must be `PASSED`.

    **Why it matters.** A signed FAILED verdict is an honest record, and a reason to stop the
    artifact.

    **How to fix.** Fix what the check reported (`slsalint check IMAGE` shows the findings) and
    produce a new VSA.

    **Passing example.** `"verificationResult": "PASSED"`.

    **Failing example.** `"verificationResult": "FAILED"`, `"verifiedLevels": ["FAILED"]`.
    """,
    8.0,
)

VSA_LEVEL_MISSING = _rule(
    "SL607",
    "vsa-level-missing",
    "The VSA does not claim a level asked for with --verified-level",
    """
    An expected level or property is missing from `verifiedLevels`.

    **What it checks.** slsa-verifier's semantics: for an SLSA track level
    (`SLSA_BUILD_LEVEL_2`) the VSA must claim that track at the same or a higher level (L3 implies
    L2); any other value must be listed exactly. A malformed `SLSA_` value is reported too.
    slsalint claims `SLSA_BUILD_LEVEL_n` only when the `slsa-build-ln` pack ran at its levels and
    none of its rules found anything.

    **Why it matters.** The level is what the consumer delegates: an L2 VSA does not satisfy an
    L3 requirement.

    **How to fix.** Check with the pack of the level you need (`--pack slsa-build-l3`) and fix its
    findings.

    **Passing example.** `--verified-level SLSA_BUILD_LEVEL_2` for a VSA claiming
    `SLSA_BUILD_LEVEL_3`.

    **Failing example.** `--verified-level SLSA_BUILD_LEVEL_3` for a VSA claiming
    `SLSA_BUILD_LEVEL_2`.
    """,
    7.5,
)

VSA_EXPIRED = _rule(
    "SL608",
    "vsa-expired",
    "The VSA is older than the accepted age (or has no or a future timeVerified)",
    """
    The verdict is too old to rely on.

    **What it checks.** With `verify-vsa --max-age DURATION` (and always for `check --accept-vsa`
    with `--vsa-max-age`): `timeVerified` must be present, not more than 5 minutes in the future,
    and no older than the duration (`30m`, `12h`, `7d`, `2w`, `1d12h`).

    **Why it matters.** Policies, trusted builders, exceptions and known vulnerabilities change; a
    verdict from months ago says little about today. Re-verifying on a schedule bounds how long a
    wrong verdict can live.

    **How to fix.** Check the image again to get a fresh VSA.

    **Passing example.** A VSA verified 2 hours ago with `--max-age 7d`.

    **Failing example.** A VSA verified 8 days ago with `--max-age 7d`.
    """,
    6.0,
)

VSA_POLICY_MISMATCH = _rule(
    "SL609",
    "vsa-policy-mismatch",
    "The VSA was made for another policy digest",
    """
    The verifier applied another policy than the one expected.

    **What it checks.** With `verify-vsa --policy-digest sha256:HEX` (and always for
    `check --accept-vsa`): `predicate.policy.digest.sha256` must equal the expected digest. The
    digest slsalint records covers the effective policy (docs/vsa.md: policy file, packs, Rego
    sources, exceptions file, the rule plan, signers and trust root, evidence sources, slsalint
    version).

    **Why it matters.** A pass under a weaker or older policy is not a pass under yours.

    **How to fix.** Check the image with the current policy to get a VSA for it.

    **Passing example.** A VSA whose policy digest is the one `check` prints for your policy.

    **Failing example.** The same VSA after a rule of the policy was switched on.
    """,
    7.0,
)

VSA_RULES = (
    VSA_MISSING,
    VSA_SIGNATURE_INVALID,
    VSA_SUBJECT_MISMATCH,
    VSA_VERIFIER_MISMATCH,
    VSA_RESOURCE_URI_MISMATCH,
    VSA_RESULT_FAILED,
    VSA_LEVEL_MISSING,
    VSA_EXPIRED,
    VSA_POLICY_MISMATCH,
)
