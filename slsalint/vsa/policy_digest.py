"""The digest of the effective policy: everything besides the evidence that decides a verdict.

A VSA records ``policy.digest.sha256``; ``check --accept-vsa`` trusts a VSA only for the digest of
the policy in force now. The digest is the SHA-256 of the canonical JSON (keys sorted, no
whitespace, UTF-8) of this manifest (``slsalint.policy-digest/v1``, documented in docs/vsa.md):

- ``tool``: the slsalint version (built-in checks change with it);
- ``policyFile``: SHA-256 of the policy file's bytes (null without one);
- ``packs``: the packs used, in order, each with the SHA-256 of its ``pack.yaml``;
- ``rego``: the SHA-256 of every Rego module loaded (packs, the policy's ``rego:``, ``--rego``),
  sorted, by content only, so the checkout's location does not matter;
- ``exceptions``: SHA-256 of the exceptions file in force (null without one);
- ``rules``: the built-in rule plan (id, effective level, options), after packs, the policy's
  ``rules:``, ``--pack``, ``--enable`` and ``--disable``; ``regoRules``: the Rego rules that run
  with their levels; ``failOn``;
- ``signers``: every signer in force (flags, or the policy's, and every component's), keys by their
  fingerprint (``sha256:`` of the DER public key), so replacing a key file changes the digest;
  ``annotations``: the required image-signature annotations;
- ``trustedRoot``: SHA-256 of ``--trusted-root`` (or ``sigstore-production``);
- ``sources``: ``--attestation-repository`` and the GitHub attestation owners and API URL.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.errors import ConfigError
from slsalint.model import Level

if TYPE_CHECKING:
    from slsalint.engine import LintOptions

MANIFEST_VERSION = "slsalint.policy-digest/v1"


def _file_digest(path: Path, what: str) -> str:
    from slsalint import fileio

    try:
        return hashlib.sha256(fileio.read_bytes(path)).hexdigest()
    except fileio.FileReadError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def _signer(policy: Any) -> dict[str, Any]:
    if policy.key is not None:
        try:
            return {"key": policy.loaded_key().fingerprint}
        except Exception as exc:  # the key was loaded up front; a file that vanished since is config
            raise ConfigError(f"{policy.name or 'signer'}: {exc}") from None
    out: dict[str, Any] = {
        name: value
        for name, value in (
            ("identity", policy.identity),
            ("identityRegexp", policy.identity_regexp),
            ("issuer", policy.issuer),
            ("issuerRegexp", policy.issuer_regexp),
        )
        if value is not None
    }
    if policy.github:
        out["github"] = dict(sorted(policy.github.items()))
    if policy.annotations:
        out["annotations"] = dict(sorted(policy.annotations.items()))
    return out


def _spec(spec: Any) -> dict[str, Any]:
    """A component's signer as written in the policy (keys by fingerprint)."""
    from slsalint.verify.keys import load_public_key

    out = spec.as_json()
    if spec.key is not None:
        from slsalint import fileio

        try:
            out["key"] = load_public_key(fileio.read_bytes(spec.key), source=str(spec.key)).fingerprint
        except (fileio.FileReadError, ValueError) as exc:
            raise ConfigError(f"components signer key {spec.key}: {exc}") from None
    return dict(sorted(out.items()))


def policy_manifest(options: LintOptions) -> dict[str, Any]:
    """The manifest the policy digest is computed over (see the module doc)."""
    from slsalint import __version__
    from slsalint.policy import load_pack, plan_rules
    from slsalint.rego import RegoSource, module_files, pack_sources, select_rules

    policy = options.policy
    pack_names = list(options.packs or policy.packs)
    packs = [
        {"name": name, "digest": _file_digest(load_pack(name).path, f"pack {name}")} for name in pack_names
    ]
    sources = pack_sources(pack_names)
    sources += [RegoSource(p, origin="policy rego") for p in policy.rego]
    sources += [RegoSource(p, origin="--rego") for p in options.rego]
    rego = sorted({_file_digest(f, "rego") for source in sources for f in module_files(source)})
    selection = select_rules(
        policy, packs=options.packs, rego=options.rego, enable=options.enable, disable=options.disable
    )
    planned, _ = plan_rules(policy, packs=options.packs, enable=selection.enable, disable=selection.disable)
    exceptions_path = options.exceptions.path if options.exceptions is not None else policy.exceptions
    signing = options.signing
    signers = list(signing.signers) if signing is not None and signing.signers else list(policy.signers)
    components = {c.name: [_spec(s) for s in c.signers] for c in policy.components.components if c.signers}
    github = options.registry.github
    return {
        "version": MANIFEST_VERSION,
        "tool": {"slsalint": __version__},
        "policyFile": _file_digest(policy.path, "policy") if policy.path is not None else None,
        "packs": packs,
        "rego": rego,
        "exceptions": _file_digest(exceptions_path, "exceptions") if exceptions_path is not None else None,
        "rules": [
            {"id": rule.check.id, "level": rule.level.value, "options": rule.options} for rule in planned
        ],
        "regoRules": sorted(({"id": r.id, "level": r.level.value} for r in selection.rules), key=str),
        "failOn": str(options.fail_on or policy.fail_on or Level.ERROR),
        "signers": [_signer(s) for s in signers],
        "componentSigners": components,
        "annotations": dict(sorted(signing.annotations.items())) if signing is not None else {},
        "trustedRoot": (
            _file_digest(signing.trusted_root, "--trusted-root")
            if signing is not None and signing.trusted_root is not None
            else "sigstore-production"
        ),
        "sources": {
            "attestationRepository": options.registry.attestation_repository,
            "github": sorted(str(o) for o in github.owners) if github is not None else [],
            "githubApi": github.api_url if github is not None and github.owners else None,
        },
    }


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def policy_digest(options: LintOptions) -> str:
    """``sha256:HEX`` of the canonical policy manifest."""
    return "sha256:" + hashlib.sha256(canonical(policy_manifest(options))).hexdigest()
