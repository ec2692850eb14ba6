"""The exceptions file (``slsalint-exceptions.yaml``): reviewed, time-limited waivers per component.

```yaml
version: 1
exceptions:
  - rule: SL302                 # id or name
    component: fleet-agent      # a component of the policy's map, or an image glob (*/rancher/fleet-agent)
    platforms: [linux/arm64]    # optional: only findings about these platforms
    digest: sha256:...          # optional: only this image (index or platform manifest digest)
    reason: arm64 still built by the legacy pipeline
    owner: release-team@example.com
    ticket: FLEET-1234          # optional
    expires: 2026-12-31         # last day (UTC) it applies; at most the horizon from today
```

Loading never fails open: a malformed or missing field, an unknown rule, a rule that is never
waivable (SL105 envelope-invalid and SL904 rule-error mean "could not judge"; SL901-SL903 report on
exceptions), a wildcard in ``rule``, a date that does not exist, an expiry beyond the horizon
(``exceptions-horizon-days``, default 180) or two entries with the same scope is a ConfigError
(exit 2) naming the file, the line and the entry.

Applying (:func:`apply_exceptions`, after the checks ran) never waives an SL105 or SL904 finding,
whatever the exceptions say, and an entry naming one cannot be built. A finding matched by an
exception that has not expired gets a :class:`~slsalint.model.Waiver` and stays in the report. An
expired exception waives nothing: its findings stay active and SL901 is added. An exception whose
scope (component or glob, platforms, digest) covers a checked image but that matched no finding
adds SL902; one that waived findings and expires within the warning window
(``exceptions-warning-days``, default 14) adds SL903. Exceptions for images not checked in this run
are out of scope and not reported.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.components import COMPONENT_NAME, ComponentMap, Expectation, ImageIdentity, glob_matches
from slsalint.errors import ConfigError
from slsalint.model import Finding, Level, Platform, Target, TargetResult, Waiver
from slsalint.suggest import did_you_mean, rule_hint

if TYPE_CHECKING:
    from slsalint.policy import Policy

DEFAULT_HORIZON_DAYS = 180
DEFAULT_WARNING_DAYS = 14
FIELD_ORDER = ("rule", "component", "platforms", "digest", "reason", "owner", "ticket", "expires")
"""Key order of an entry written by ``slsalint exceptions add``."""
COULD_NOT_JUDGE = frozenset({"SL105", "SL904"})
"""Findings that mean slsalint could not judge something (evidence it could not read, a rule that
failed to evaluate): never waivable, so a run that could not judge never passes."""
EXCEPTION_NOTES = frozenset({"SL901", "SL902", "SL903"})
"""Findings about exceptions themselves: not waivable either."""
UNWAIVABLE = COULD_NOT_JUDGE | EXCEPTION_NOTES
"""Every rule no exception may name or waive."""
_WILDCARD = re.compile(r"[*?\[\]{}]")

_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_USER_RULE_ID = re.compile(r"\A[A-Za-z]{2,}[0-9]{3}\Z")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Status(enum.StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    BEYOND_HORIZON = "beyond-horizon"


def parse_date(value: Any, what: str) -> dt.date:
    """A ``YYYY-MM-DD`` date that exists; ConfigError naming ``what`` otherwise."""
    if isinstance(value, dt.datetime):
        raise ConfigError(f"{what}: expected a date YYYY-MM-DD without a time, got {value.isoformat()!r}")
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not _DATE.match(text):
        raise ConfigError(f"{what}: expected a date YYYY-MM-DD, got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{what}: {text!r} is not a real date ({exc})") from None


def unwaivable_reason(rule_id: str) -> str | None:
    """Why the rule ``rule_id`` can never be waived, or None when it can."""
    if rule_id in COULD_NOT_JUDGE:
        what = (
            "evidence that could not be read" if rule_id == "SL105" else "a rule that could not be evaluated"
        )
        return f"means {what} (slsalint could not judge), which is never waivable"
    if rule_id in EXCEPTION_NOTES:
        return "reports on exceptions and cannot be waived"
    return None


def wildcard_message(rule: str) -> str:
    return (
        f"rule {rule!r} is a wildcard; an exception names one rule by id or name (a wildcard would "
        "also cover SL105 and SL904, which are never waivable)"
    )


def normalize_rule(rule: str, what: str) -> str:
    """A rule id or name as the id it selects; ConfigError for unknown or unwaivable rules and
    for wildcards."""
    from slsalint.checks import builtin_rules

    if _WILDCARD.search(rule) or rule.strip().lower() in ("all", "any"):
        raise ConfigError(f"{what}: {wildcard_message(rule)}")
    for meta in builtin_rules():
        if rule.upper() == meta.id or rule.lower() == meta.name:
            reason = unwaivable_reason(meta.id)
            if reason is not None:
                raise ConfigError(f"{what}: {meta.id} ({meta.name}) {reason}")
            return meta.id
    if rule.upper().startswith("SL") and _USER_RULE_ID.match(rule):
        raise ConfigError(f"{what}: unknown rule {rule!r}{rule_hint(rule)} (see `slsalint rules list`)")
    if _USER_RULE_ID.match(rule):
        return rule.upper()
    raise ConfigError(
        f"{what}: unknown rule name {rule!r}{rule_hint(rule)} (see `slsalint rules list`; name rules of "
        "your own packs by id)"
    )


@dataclass(frozen=True)
class ExceptionEntry:
    """One exception of the file (validated)."""

    index: int
    """0-based position in the file; people see ``#index+1``."""
    line: int | None
    rule: str
    """The rule id (built-in names are turned into their id)."""
    component: str
    reason: str
    owner: str
    expires: dt.date
    ticket: str | None = None
    platforms: tuple[Platform, ...] = ()
    digest: str | None = None

    def __post_init__(self) -> None:
        reason = unwaivable_reason(self.rule.upper())
        if reason is not None:
            raise ValueError(f"exception #{self.number}: {self.rule} {reason}")

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def names_component(self) -> bool:
        """True when ``component`` is a component name, false when it is an image glob."""
        return bool(COMPONENT_NAME.match(self.component))

    @property
    def label(self) -> str:
        """``#2 (SL302 for fleet-agent on linux/arm64)``."""
        scope = f"{self.rule} for {self.component}"
        if self.platforms:
            scope += " on " + ", ".join(str(p) for p in self.platforms)
        if self.digest:
            scope += f" at {self.digest[:19]}…"
        return f"#{self.number} ({scope})"

    def scope_key(self) -> tuple[str, str, frozenset[str], str | None]:
        return (self.rule, self.component, frozenset(str(p) for p in self.platforms), self.digest)

    def days_left(self, today: dt.date) -> int:
        return (self.expires - today).days

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def status(self, today: dt.date, *, warning_days: int, horizon_days: int | None = None) -> Status:
        left = self.days_left(today)
        if left < 0:
            return Status.EXPIRED
        if horizon_days is not None and left > horizon_days:
            return Status.BEYOND_HORIZON
        if left <= warning_days:
            return Status.EXPIRING
        return Status.ACTIVE

    def waiver(self) -> Waiver:
        return Waiver(
            reason=self.reason, owner=self.owner, expires=self.expires.isoformat(), ticket=self.ticket
        )

    def covers(self, target: Target, image: ImageIdentity, component: str | None) -> bool:
        """Whether the exception's scope (component or glob, digest, platforms) includes ``target``."""
        if self.names_component:
            if component != self.component:
                return False
        elif not glob_matches(self.component, image):
            return False
        if self.digest is not None and self.digest not in target.all_digests():
            return False
        if self.platforms:
            checked = [p.platform for p in target.platforms if p.platform is not None]
            if not any(c.matches(w) for c in checked for w in self.platforms):
                return False
        return True

    def matches(self, finding: Finding, target: Target) -> bool:
        """Whether this exception (already known to cover ``target``) applies to ``finding``."""
        if finding.rule_id != self.rule or finding.rule_id in UNWAIVABLE:
            return False
        if self.platforms:
            try:
                platform = Platform.parse(finding.platform) if finding.platform else None
            except ValueError:
                platform = None
            if platform is None or not any(platform.matches(w) for w in self.platforms):
                return False
        return self.digest is None or self.digest in (finding.digest, target.index_digest)

    def as_json(self, today: dt.date, *, warning_days: int, horizon_days: int | None) -> dict[str, Any]:
        return {
            "number": self.number,
            "line": self.line,
            "rule": self.rule,
            "component": self.component,
            "platforms": [str(p) for p in self.platforms],
            "digest": self.digest,
            "reason": self.reason,
            "owner": self.owner,
            "ticket": self.ticket,
            "expires": self.expires.isoformat(),
            "daysLeft": self.days_left(today),
            "status": self.status(today, warning_days=warning_days, horizon_days=horizon_days).value,
        }


@dataclass(frozen=True)
class ExceptionsFile:
    path: Path
    entries: tuple[ExceptionEntry, ...] = ()

    def where(self, entry: ExceptionEntry) -> str:
        return f"{self.path}:{entry.line}" if entry.line else str(self.path)


# --- loading -------------------------------------------------------------------------------------


def read_document(path: Path) -> Any:
    """Parse the file with ruamel (line numbers kept; ``slsalint.yamlio``), dates left as strings
    so that an impossible date is reported by :func:`load_exceptions` with its entry."""
    from slsalint import yamlio

    return yamlio.load(path, what="exceptions file")


def parse_text(text: str, path: Path) -> Any:
    """Parse exceptions-file text (see :func:`read_document`); ``path`` names it in errors."""
    from slsalint import yamlio

    return yamlio.loads(text, path)


def _plain(value: Any) -> Any:
    from slsalint.yamlio import plain

    return plain(value)


def _entry_name(document: Any, index: int) -> str:
    try:
        raw = document["exceptions"][index]
    except (KeyError, IndexError, TypeError):
        return f"exception #{index + 1}"
    if not isinstance(raw, Mapping):
        return f"exception #{index + 1}"
    parts = [_shown(raw[k]) for k in ("rule", "component") if isinstance(raw.get(k), str)]
    return f"exception #{index + 1}" + (f" ({' for '.join(parts)})" if parts else "")


def _shown(value: str) -> str:
    """A value from the file as it goes into a one-line message: quoted and escaped when it holds
    a line break or another character that is not printable."""
    text = str(value)
    shown = text if text.isprintable() else repr(text)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _schema_error(path: Path, document: Any) -> ConfigError | None:
    from slsalint.policy import line_of
    from slsalint.schemas import validate

    errors = validate("exceptions", _plain(document))
    if not errors:
        return None
    first = errors[0]
    line = line_of(document, first.pointer)
    where = f"{path}:{line}" if line else str(path)
    parts = first.pointer.split("/")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if len(parts) >= 3 and parts[1] == "exceptions" and parts[2].isdigit():
        name = _entry_name(document, int(parts[2]))
        field_name = parts[3] if len(parts) > 3 else None
        message = first.message
        if field_name == "expires":
            value = _plain(document["exceptions"][int(parts[2])]["expires"])
            message = f"expires must be a date YYYY-MM-DD, got {value!r}"
        elif field_name == "digest":
            message = "digest must be sha256: followed by 64 lowercase hex digits"
        elif field_name == "platforms" and len(parts) > 4:
            message = f"platform {message.split(' does not match')[0]} is not os/arch[/variant]"
        elif field_name in ("reason", "owner", "ticket") and "does not match" in message:
            message = f"{field_name} must not be blank"
        elif field_name == "rule" and len(parts) == 4:
            value = _plain(document["exceptions"][int(parts[2])]["rule"])
            if isinstance(value, str) and (
                _WILDCARD.search(value) or value.strip().lower() in ("all", "any")
            ):
                message = wildcard_message(value)
            elif isinstance(value, str):
                message = (
                    f"rule {value!r} is not a rule id (SL302) or name (provenance-mode-min)"
                    + rule_hint(value)
                )
        return ConfigError(f"{where}: {name}: {message}{more}")
    return ConfigError(f"{where}: {first.pointer or '/'}: {first.message}{more}")


def load_exceptions(
    path: Path,
    *,
    today: dt.date | None = None,
    horizon_days: int | None = DEFAULT_HORIZON_DAYS,
    components: ComponentMap | None = None,
) -> ExceptionsFile:
    """Load and validate an exceptions file.

    ``horizon_days`` None skips the horizon check (``list`` and ``audit`` report it instead).
    ``components`` (the policy's map) makes component names that it does not define an error; None
    skips that check (no policy at hand).
    """
    if not path.exists() and not path.is_symlink():
        raise ConfigError(missing_file_message(path))
    return exceptions_from_document(
        path, read_document(path), today=today, horizon_days=horizon_days, components=components
    )


def exceptions_from_document(
    path: Path,
    document: Any,
    *,
    today: dt.date | None = None,
    horizon_days: int | None = DEFAULT_HORIZON_DAYS,
    components: ComponentMap | None = None,
) -> ExceptionsFile:
    """Validate a parsed exceptions document (see :func:`load_exceptions`)."""
    from slsalint.policy import line_of

    if document is None:
        raise ConfigError(f"{path}: empty exceptions file (expected 'version: 1' and an 'exceptions' list)")
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}:1: the exceptions file must be a mapping with 'version' and 'exceptions'")
    error = _schema_error(path, document)
    if error is not None:
        raise error
    today = today or utc_today()
    entries: list[ExceptionEntry] = []
    seen: dict[tuple[str, str, frozenset[str], str | None], ExceptionEntry] = {}
    for index, raw in enumerate(document["exceptions"]):
        line = line_of(document, f"/exceptions/{index}")
        where = f"{path}:{line}" if line else str(path)
        name = _entry_name(document, index)
        rule = normalize_rule(str(raw["rule"]), f"{where}: {name}")
        expires_line = line_of(document, f"/exceptions/{index}/expires") or line
        expires = parse_date(raw["expires"], f"{path}:{expires_line}: {name}: expires")
        entry = ExceptionEntry(
            index=index,
            line=line,
            rule=rule,
            component=str(raw["component"]),
            reason=str(raw["reason"]).strip(),
            owner=str(raw["owner"]).strip(),
            expires=expires,
            ticket=str(raw["ticket"]).strip() if raw.get("ticket") is not None else None,
            platforms=tuple(Platform.parse(str(p)) for p in raw.get("platforms") or []),
            digest=str(raw["digest"]) if raw.get("digest") is not None else None,
        )
        if horizon_days is not None and entry.days_left(today) > horizon_days:
            limit = today + dt.timedelta(days=horizon_days)
            raise ConfigError(
                f"{path}:{expires_line}: {name}: expires {expires.isoformat()} is beyond the "
                f"{horizon_days}-day horizon (latest allowed today: {limit.isoformat()}); "
                "shorten it and renew after review"
            )
        if components is not None and entry.names_component and components.get(entry.component) is None:
            known = ", ".join(components.names) or "none defined"
            hint = did_you_mean(entry.component, components.names)
            raise ConfigError(
                f"{where}: {name}: unknown component {entry.component!r}{hint} (policy components: {known}); "
                "name images directly with a glob such as */org/image"
            )
        previous = seen.get(entry.scope_key())
        if previous is not None:
            raise ConfigError(
                f"{where}: {name}: same rule, component, platforms and digest as exception "
                f"#{previous.number} (line {previous.line}); keep one"
            )
        seen[entry.scope_key()] = entry
        entries.append(entry)
    return ExceptionsFile(path=path, entries=tuple(entries))


def missing_file_message(path: Path, named_by: Path | None = None) -> str:
    """An exceptions file that does not exist yet, and the command that creates it."""
    import shlex

    by = f" (named by {named_by})" if named_by is not None else ""
    return (
        f"{path}: no such exceptions file{by}; create it with `slsalint exceptions add "
        f"{shlex.quote(str(path))} --rule RULE --component COMPONENT --reason REASON --owner OWNER "
        "--expires YYYY-MM-DD`"
    )


def load_for_policy(path: Path, policy: Policy, *, today: dt.date | None = None) -> ExceptionsFile:
    """Load ``path`` with the policy's components and horizon (what ``check`` does)."""
    if not path.exists() and not path.is_symlink():
        named_by = policy.path if policy.path is not None and path == policy.exceptions else None
        raise ConfigError(missing_file_message(path, named_by))
    return load_exceptions(
        path, today=today, horizon_days=policy.exceptions_horizon_days, components=policy.components
    )


# --- applying ------------------------------------------------------------------------------------


@dataclass
class ExceptionUse:
    """What one exception did in a run."""

    entry: ExceptionEntry
    in_scope: list[TargetResult] = field(default_factory=list)
    """Checked targets the exception's scope covers."""
    waived: list[Finding] = field(default_factory=list)
    blocked: list[Finding] = field(default_factory=list)
    """Findings the exception matched but could not waive because it has expired."""
    matched: int = 0


def apply_exceptions(
    results: Sequence[tuple[TargetResult, Expectation | None]],
    exceptions: ExceptionsFile,
    *,
    today: dt.date | None = None,
    warning_days: int = DEFAULT_WARNING_DAYS,
    levels: dict[str, Level] | None = None,
) -> list[ExceptionUse]:
    """Waive the findings the exceptions match and add SL901/SL902/SL903 findings.

    ``results`` pairs each target's result with the component expectation of its image (None when
    no component claims it). Findings are changed in place; nothing is removed. ``levels`` (the
    policy's ``rules:`` for SL901-SL903) re-levels those findings; ``off`` leaves them out.
    """
    from slsalint.components import identify_target

    today = today or utc_today()
    uses = [ExceptionUse(entry) for entry in exceptions.entries]
    for result, expectation in results:
        target = result.target
        image = expectation.image if expectation is not None else identify_target(target)
        component = expectation.component.name if expectation is not None else None
        in_scope = [u for u in uses if u.entry.covers(target, image, component)]
        if not in_scope:
            continue
        for use in in_scope:
            use.in_scope.append(result)
        waived_here: dict[int, int] = {}
        blocked_here: dict[int, list[Finding]] = {}
        for finding in list(result.findings):
            if finding.waived or finding.rule_id in UNWAIVABLE:
                continue  # could-not-judge findings and exception notes are never waived
            candidates = [u for u in in_scope if u.entry.matches(finding, target)]
            if not candidates:
                continue
            for use in candidates:
                use.matched += 1
            active = [u for u in candidates if not u.entry.expired(today)]
            if active:
                finding.waiver = active[0].entry.waiver()
                active[0].waived.append(finding)
                waived_here[active[0].entry.index] = waived_here.get(active[0].entry.index, 0) + 1
                continue
            for use in candidates:
                use.blocked.append(finding)
                blocked_here.setdefault(use.entry.index, []).append(finding)
        for use in in_scope:
            entry = use.entry
            if entry.index in blocked_here:
                result.findings.append(
                    _expired_finding(exceptions, entry, target, blocked_here[entry.index], today)
                )
            elif entry.index in waived_here and entry.days_left(today) <= warning_days:
                result.findings.append(
                    _expiring_finding(exceptions, entry, target, waived_here[entry.index], today)
                )
    for use in uses:
        if use.in_scope and use.matched == 0:
            use.in_scope[0].findings.append(
                _unused_finding(exceptions, use.entry, use.in_scope[0].target, today)
            )
    if levels:
        for result, _ in results:
            kept = []
            for finding in result.findings:
                level = levels.get(finding.rule_id)
                if level is Level.OFF:
                    continue
                if level is not None:
                    finding.level = level
                kept.append(finding)
            result.findings[:] = kept
    return uses


def _finding(
    meta_id: str, exceptions: ExceptionsFile, entry: ExceptionEntry, target: Target, message: str, **kw: Any
) -> Finding:
    from slsalint.checks import EXCEPTION_RULES

    meta = next(m for m in EXCEPTION_RULES if m.id == meta_id)
    return Finding(
        rule_id=meta.id,
        rule_name=meta.name,
        level=meta.level,
        message=message,
        image=target.reference,
        digest=target.index_digest or (target.platforms[0].digest if len(target.platforms) == 1 else None),
        source=f"exceptions {exceptions.where(entry)}",
        pointer=f"/exceptions/{entry.index}",
        **kw,
    )


def _renew_hint(exceptions: ExceptionsFile, entry: ExceptionEntry) -> str:
    return (
        f"slsalint exceptions renew {exceptions.path} --rule {entry.rule} --component {entry.component} "
        "--expires YYYY-MM-DD"
    )


def _expired_finding(
    exceptions: ExceptionsFile, entry: ExceptionEntry, target: Target, blocked: list[Finding], today: dt.date
) -> Finding:
    rules = ", ".join(sorted({f.rule_id for f in blocked}))
    count = f"{len(blocked)} finding{'s' if len(blocked) != 1 else ''}"
    return _finding(
        "SL901",
        exceptions,
        entry,
        target,
        f"exception {entry.label} expired on {entry.expires.isoformat()}; the {count} it matched "
        f"({rules}) stay active",
        expected=f"expires on or after {today.isoformat()}",
        actual=entry.expires.isoformat(),
        remediation="fix the finding and remove the exception, or after review renew it: "
        f"`{_renew_hint(exceptions, entry)}`",
    )


def _expiring_finding(
    exceptions: ExceptionsFile, entry: ExceptionEntry, target: Target, waived: int, today: dt.date
) -> Finding:
    left = entry.days_left(today)
    when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    return _finding(
        "SL903",
        exceptions,
        entry,
        target,
        f"exception {entry.label} expires {when} ({entry.expires.isoformat()}); the {waived} "
        f"finding{'s' if waived != 1 else ''} it waives will then fail the check",
        actual=entry.expires.isoformat(),
        remediation="fix the finding, or after review renew the exception: "
        f"`{_renew_hint(exceptions, entry)}`",
    )


def _unused_finding(
    exceptions: ExceptionsFile, entry: ExceptionEntry, target: Target, today: dt.date
) -> Finding:
    also = f"; it also expired on {entry.expires.isoformat()}" if entry.expired(today) else ""
    return _finding(
        "SL902",
        exceptions,
        entry,
        target,
        f"exception {entry.label} applies to this image but matched no finding{also}",
        remediation=f"remove it from {exceptions.path} if the problem it waived is fixed",
    )


__all__ = [
    "COULD_NOT_JUDGE",
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_WARNING_DAYS",
    "ExceptionEntry",
    "ExceptionUse",
    "ExceptionsFile",
    "Status",
    "apply_exceptions",
    "exceptions_from_document",
    "load_exceptions",
    "load_for_policy",
    "parse_date",
    "parse_text",
    "read_document",
    "utc_today",
]
