"""The interface every built-in check implements.

A check is a class whose docstring is its documentation (what it checks, why it matters, how to fix
it, a passing and a failing example) and whose class attributes are its metadata. ``run`` yields
findings; it never raises for bad input (the engine turns an unexpected exception into SL904).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from slsalint.model import (
    Attestation,
    Finding,
    Level,
    PlatformTarget,
    ProvenanceView,
    RuleMeta,
    Target,
)

if TYPE_CHECKING:
    from slsalint.components import Expectation

DOCS_BASE = "https://github.com/slsalint/slsalint/blob/main/docs/rules"


@dataclass
class CheckContext:
    """What a check sees: one target, the rule's effective level and options, and what the
    components map expects of the target's image (None when no component claims it)."""

    target: Target
    meta: RuleMeta
    level: Level
    options: dict[str, Any]
    expectation: Expectation | None = None
    _provenance: list[tuple[PlatformTarget, Attestation, ProvenanceView]] | None = field(
        default=None, repr=False, compare=False
    )

    def finding(
        self,
        message: str,
        *,
        platform: PlatformTarget | None = None,
        attestation: Attestation | None = None,
        pointer: str | None = None,
        expected: Any = None,
        actual: Any = None,
        remediation: str | None = None,
        digest: str | None = None,
    ) -> Finding:
        return Finding(
            rule_id=self.meta.id,
            rule_name=self.meta.name,
            level=self.level,
            message=message,
            image=self.target.reference,
            platform=str(platform.platform) if platform and platform.platform else None,
            digest=digest or (platform.digest if platform and platform.digest else self.target.index_digest),
            source=str(attestation.source) if attestation else None,
            pointer=pointer,
            expected=expected,
            actual=actual,
            remediation=remediation,
        )

    def provenance(self) -> Iterator[tuple[PlatformTarget, Attestation, ProvenanceView]]:
        """Every (platform, provenance attestation, normalized view) that applies to the target
        (listed once per context: the engine runs every rule on a target with one context)."""
        listed = self._provenance
        if listed is None:
            listed = self._provenance = [
                (platform, attestation, attestation.provenance)
                for platform in self.target.platforms
                for attestation in platform.attestations
                if attestation.provenance is not None
            ]
        return iter(listed)


_META_CACHE: dict[type[Check], RuleMeta] = {}


class Check:
    """Base class: subclasses set the class attributes and implement ``run``."""

    id: ClassVar[str]
    name: ClassVar[str]
    level: ClassVar[Level]
    summary: ClassVar[str]
    remediation: ClassVar[str]
    security_severity: ClassVar[float] = 5.0
    options_schema: ClassVar[dict[str, Any]] = {}

    @classmethod
    def meta(cls) -> RuleMeta:
        cached = _META_CACHE.get(cls)
        if cached is None:
            cached = _META_CACHE[cls] = cls._build_meta()
        return cached

    @classmethod
    def _build_meta(cls) -> RuleMeta:
        return RuleMeta(
            id=cls.id,
            name=cls.name,
            level=cls.level,
            summary=cls.summary,
            doc=inspect.cleandoc(cls.__doc__ or cls.summary),
            options_schema=cls.options_schema or {"type": "object", "additionalProperties": False},
            security_severity=cls.security_severity,
            help_uri=f"{DOCS_BASE}/{cls.id}.md",
        )

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        raise NotImplementedError


def options_schema(properties: dict[str, Any]) -> dict[str, Any]:
    """A closed JSON Schema object for a rule's options."""
    return {"type": "object", "properties": properties, "additionalProperties": False}


STRING_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}
