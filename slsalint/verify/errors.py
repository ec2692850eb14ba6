"""Operational errors of signature verification (each maps to an exit code through SlsalintError)."""

from __future__ import annotations

from slsalint.errors import ConfigError, OperationalError


class TrustRootError(OperationalError):
    """The trusted root (``--trusted-root FILE`` or the embedded one) is malformed or unusable.

    Verification fails closed: without a usable root no signature can be called valid, so the CLI
    stops with exit code 3 instead of reporting findings.
    """


class KeyLoadError(ConfigError):
    """A ``--key`` / ``signers[].key`` file that cannot be read or holds no usable public key."""
