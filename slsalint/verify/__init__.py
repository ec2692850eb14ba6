"""Signature verification: Sigstore bundles, legacy cosign layers, keys, and who may sign.

Offline by construction: the trust comes from a ``trusted_root.json`` (``--trusted-root FILE``) or
the production root embedded in the sigstore package; nothing is fetched and nothing is cached
in the home directory. Everything returns values (``Verification`` with ``VerificationProblem``
rule ids SL105/SL103/SL202/SL204, image-signature problems SL205/SL206); only an unusable trust
root (``TrustRootError``, exit 3) or key file (``KeyLoadError``, exit 2) raises.

Public API (imported lazily, so ``import slsalint.verify`` stays cheap):

* ``TrustRoot.from_file(path)`` / ``TrustRoot.production()``
* ``verify_bundle(bundle, trust, *, artifact_digest=None, keys=())``
* ``verify_cosign_layer(data, annotations, trust, *, kind="att"|"sig", keys=())``
* ``verify_dsse_with_keys(envelope, keys)``, ``verify_simple_signing_with_keys(payload, sig_b64, keys)``,
  ``verify_legacy_dsse(envelope, trust)``
* ``SignerIdentity``, ``SignerPolicy`` (``from_mapping``), ``match(identity, policies)``,
  ``parse_annotations``
* ``check_image_signature(payload, image_digest, required_annotations)``
* ``load_public_key``, ``load_public_key_file``, ``LoadedKey``
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slsalint.verify.bundle import verify_bundle
    from slsalint.verify.cosign import verify_cosign_layer
    from slsalint.verify.dsse import (
        verify_dsse_with_keys,
        verify_legacy_dsse,
        verify_simple_signing_with_keys,
    )
    from slsalint.verify.errors import KeyLoadError, TrustRootError
    from slsalint.verify.identity import SignerIdentity, SignerPolicy, match, parse_annotations
    from slsalint.verify.keys import LoadedKey, load_public_key, load_public_key_file
    from slsalint.verify.result import Verification, VerificationProblem
    from slsalint.verify.simple_signing import check_image_signature, parse_image_signature
    from slsalint.verify.trust import TrustRoot

_EXPORTS = {
    "verify_bundle": "bundle",
    "verify_cosign_layer": "cosign",
    "verify_dsse_with_keys": "dsse",
    "verify_legacy_dsse": "dsse",
    "verify_simple_signing_with_keys": "dsse",
    "KeyLoadError": "errors",
    "TrustRootError": "errors",
    "SignerIdentity": "identity",
    "SignerPolicy": "identity",
    "match": "identity",
    "parse_annotations": "identity",
    "LoadedKey": "keys",
    "load_public_key": "keys",
    "load_public_key_file": "keys",
    "Verification": "result",
    "VerificationProblem": "result",
    "check_image_signature": "simple_signing",
    "parse_image_signature": "simple_signing",
    "TrustRoot": "trust",
}

__all__ = [
    "KeyLoadError",
    "LoadedKey",
    "SignerIdentity",
    "SignerPolicy",
    "TrustRoot",
    "TrustRootError",
    "Verification",
    "VerificationProblem",
    "check_image_signature",
    "load_public_key",
    "load_public_key_file",
    "match",
    "parse_annotations",
    "parse_image_signature",
    "verify_bundle",
    "verify_cosign_layer",
    "verify_dsse_with_keys",
    "verify_legacy_dsse",
    "verify_simple_signing_with_keys",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'slsalint.verify' has no attribute {name!r}")
    return getattr(importlib.import_module(f"slsalint.verify.{module}"), name)
