"""slsalint: an SLSA provenance linter and policy engine, as a library.

The command line is a thin layer over these names; a program can run the same check::

    from pathlib import Path
    from slsalint import LintOptions, LintRequest, lint, load_policy, render

    report = lint(
        [LintRequest(target="oci:examples/demo-image")],
        LintOptions(policy=load_policy(Path("slsalint.yaml"))),
    )
    print(render(report, "text"))
    raise SystemExit(report.exit_code)

Everything listed in ``__all__`` is the public, typed surface; other modules are internal and may
change between minor versions. Operational failures raise :class:`SlsalintError` subclasses
(:class:`ConfigError` for exit 2, :class:`OperationalError` for exit 3); findings are values in the
:class:`Report`, never exceptions.

Names are imported on first use, so ``import slsalint`` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "lint": "slsalint.engine",
    "explain": "slsalint.engine",
    "LintRequest": "slsalint.engine",
    "LintOptions": "slsalint.engine",
    "RegistrySettings": "slsalint.engine",
    "load_policy": "slsalint.policy",
    "Policy": "slsalint.policy",
    "load_exceptions": "slsalint.exceptions",
    "ExceptionsFile": "slsalint.exceptions",
    "SigningSettings": "slsalint.signing",
    "SignerPolicy": "slsalint.verify",
    "render": "slsalint.report",
    "FORMATS": "slsalint.report",
    "Report": "slsalint.model",
    "TargetResult": "slsalint.model",
    "Target": "slsalint.model",
    "PlatformTarget": "slsalint.model",
    "Attestation": "slsalint.model",
    "Finding": "slsalint.model",
    "Waiver": "slsalint.model",
    "Level": "slsalint.model",
    "Platform": "slsalint.model",
    "RuleMeta": "slsalint.model",
    "SlsalintError": "slsalint.errors",
    "ConfigError": "slsalint.errors",
    "OperationalError": "slsalint.errors",
}

__all__ = [
    "FORMATS",
    "Attestation",
    "ConfigError",
    "ExceptionsFile",
    "Finding",
    "Level",
    "LintOptions",
    "LintRequest",
    "OperationalError",
    "Platform",
    "PlatformTarget",
    "Policy",
    "RegistrySettings",
    "Report",
    "RuleMeta",
    "SignerPolicy",
    "SigningSettings",
    "SlsalintError",
    "Target",
    "TargetResult",
    "Waiver",
    "__version__",
    "explain",
    "lint",
    "load_exceptions",
    "load_policy",
    "render",
]

if TYPE_CHECKING:
    from slsalint.engine import LintOptions, LintRequest, RegistrySettings, explain, lint
    from slsalint.errors import ConfigError, OperationalError, SlsalintError
    from slsalint.exceptions import ExceptionsFile, load_exceptions
    from slsalint.model import (
        Attestation,
        Finding,
        Level,
        Platform,
        PlatformTarget,
        Report,
        RuleMeta,
        Target,
        TargetResult,
        Waiver,
    )
    from slsalint.policy import Policy, load_policy
    from slsalint.report import FORMATS, render
    from slsalint.signing import SigningSettings
    from slsalint.verify import SignerPolicy


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'slsalint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
