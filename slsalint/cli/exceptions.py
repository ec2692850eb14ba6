"""``slsalint exceptions add|renew|list|audit``: the release manager's view of the exceptions file.

``add`` and ``renew`` edit the file with ruamel's round-trip mode, so comments, key order, quoting
and indentation of everything else are kept; the edited file is validated as a whole before it
replaces the original (atomically). ``audit`` is the check for pull requests that touch the file:
exit 1 when an exception has expired or runs beyond the horizon.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from slsalint.cli._common import STATE
from slsalint.errors import ConfigError

if TYPE_CHECKING:
    from slsalint.exceptions import ExceptionEntry, ExceptionsFile
    from slsalint.policy import Policy

app = typer.Typer(
    help="""Add, renew, list and audit time-limited exceptions (the exceptions file).

    Examples:

    \b
      slsalint exceptions add slsalint-exceptions.yaml --rule SL302 --component fleet-agent \\
        --reason "legacy pipeline" --owner release@example.com --expires 2026-12-31
      slsalint exceptions list slsalint-exceptions.yaml
      slsalint exceptions audit slsalint-exceptions.yaml --format json
    """,
    no_args_is_help=True,
)

_DIGEST = re.compile(r"\Asha256:[0-9a-f]{64}\Z")
HEADER = (
    "slsalint exceptions: reviewed, time-limited waivers of findings.\n"
    "Edit with `slsalint exceptions add|renew`; check with `slsalint exceptions audit`."
)

FILE_ARGUMENT = typer.Argument(..., metavar="FILE", help="The exceptions file (slsalint-exceptions.yaml).")
POLICY_OPTION = typer.Option(
    None,
    "--policy",
    "-p",
    metavar="FILE",
    help="Policy file giving the components map and the horizon (default: ./slsalint.yaml when present).",
)
AS_OF_OPTION = typer.Option(
    None, "--as-of", metavar="YYYY-MM-DD", help="Judge expiry as of this date (default: today, UTC)."
)
HORIZON_OPTION = typer.Option(
    None,
    "--horizon-days",
    metavar="DAYS",
    help="Longest an exception may run from today (default: the policy's, else 180).",
)
WARNING_OPTION = typer.Option(
    None,
    "--warning-days",
    metavar="DAYS",
    help="Expiring within this many days is 'expiring' (default: the policy's, else 14).",
)
FORMAT_OPTION = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json.")
ADD_FORMAT_OPTION = typer.Option(
    "text", "--format", "-f", metavar="text|json", help="text or json (the entry written)."
)


def _policy(path: Path | None) -> Policy | None:
    from slsalint.policy import default_policy, load_policy

    if path is not None:
        return load_policy(path)
    if (found := default_policy()) is not None:
        return load_policy(found)
    return None


def _today(as_of: str | None) -> dt.date:
    from slsalint.exceptions import parse_date, utc_today

    return parse_date(as_of, "--as-of") if as_of is not None else utc_today()


def _settings(policy: Policy | None, horizon: int | None, warning: int | None) -> tuple[int, int]:
    from slsalint.exceptions import DEFAULT_HORIZON_DAYS, DEFAULT_WARNING_DAYS

    if horizon is not None and horizon < 1:
        raise ConfigError(f"--horizon-days {horizon}: expected a positive number of days")
    if warning is not None and warning < 0:
        raise ConfigError(f"--warning-days {warning}: expected zero or more days")
    return (
        horizon or (policy.exceptions_horizon_days if policy else DEFAULT_HORIZON_DAYS),
        warning
        if warning is not None
        else (policy.exceptions_warning_days if policy else DEFAULT_WARNING_DAYS),
    )


def _format(value: str) -> str:
    from slsalint.cli._common import text_or_json

    return text_or_json(value)


def _load(path: Path, policy: Policy | None) -> ExceptionsFile:
    from slsalint.exceptions import load_exceptions

    return load_exceptions(path, horizon_days=None, components=policy.components if policy else None)


# --- editing -------------------------------------------------------------------------------------


def _round_trip(path: Path) -> tuple[Any, Any]:
    """(ruamel YAML instance configured like the file, the document) for editing ``path``.

    The file is read and parsed with the same guards as every configuration file
    (``slsalint.yamlio``); dates stay dates, so they are written back as they were."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    from slsalint import yamlio

    yaml = yamlio.round_trip(dates_as_text=False)
    yaml.preserve_quotes = True
    yaml.width = 4096
    text = yamlio.read_text(path, what="exceptions file") if path.exists() else ""
    document = yamlio.loads(text, path, yaml=yaml) if text.strip() else None
    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(text) if text.strip() else (None, None, None)
    except (YAMLError, ValueError):
        indent = block_seq_indent = None
    if indent is None:
        indent, block_seq_indent = 4, 2
    offset = block_seq_indent or 0
    yaml.indent(mapping=max(indent - offset, 2), sequence=indent, offset=offset)
    if document is None:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        document = CommentedMap()
        document["version"] = 1
        document["exceptions"] = CommentedSeq()
        document.yaml_set_start_comment(HEADER)
    return yaml, document


def _write(path: Path, yaml: Any, document: Any, policy: Policy | None) -> None:
    """Validate the edited document as a whole, then replace ``path`` atomically."""
    import io
    import os

    from slsalint.exceptions import exceptions_from_document, parse_text

    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    exceptions_from_document(
        path,
        parse_text(text, path),
        horizon_days=None,
        components=policy.components if policy else None,
    )
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the parent is a file: there is no tmp to remove
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _check_expiry(expires: str, *, today: dt.date, horizon: int) -> dt.date:
    from slsalint.exceptions import parse_date

    date = parse_date(expires, "--expires")
    if date < today:
        raise ConfigError(f"--expires {date.isoformat()}: the date has passed (today is {today.isoformat()})")
    if (date - today).days > horizon:
        limit = today + dt.timedelta(days=horizon)
        raise ConfigError(
            f"--expires {date.isoformat()}: beyond the {horizon}-day horizon "
            f"(latest allowed: {limit.isoformat()})"
        )
    return date


def _text(value: str, option: str) -> str:
    value = value.strip()
    if not value:
        raise ConfigError(f"{option}: must not be blank")
    if len(value) > 1000:
        raise ConfigError(f"{option}: at most 1000 characters")
    return value


def _platforms(values: list[str]) -> list[str]:
    from slsalint.model import Platform

    out: list[str] = []
    for value in values:
        try:
            platform = str(Platform.parse(value))
        except ValueError as exc:
            raise ConfigError(f"--platform: {exc}") from None
        if not re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", platform):
            raise ConfigError(f"--platform {value}: expected lowercase os/arch[/variant]")
        if platform not in out:
            out.append(platform)
    return out


def _component(value: str, policy: Policy | None) -> str:
    from slsalint.components import COMPONENT_NAME

    value = value.strip()
    if not value or any(c.isspace() for c in value):
        raise ConfigError("--component: expected a component name or an image glob without spaces")
    if policy is not None and COMPONENT_NAME.match(value) and policy.components.get(value) is None:
        from slsalint.suggest import did_you_mean

        known = ", ".join(policy.components.names) or "none defined"
        hint = did_you_mean(value, policy.components.names)
        raise ConfigError(
            f"--component {value}: unknown component{hint} (policy components: {known}); "
            "name images directly with a glob such as */org/image"
        )
    return value


@app.command("add")
def add(
    file: Path = FILE_ARGUMENT,
    rule: str = typer.Option(
        ..., "--rule", metavar="RULE", help="Rule id (SL302) or name (provenance-mode-min)."
    ),
    component: str = typer.Option(
        ...,
        "--component",
        metavar="COMPONENT",
        help="Component name from the policy, or an image glob (*/rancher/fleet-agent).",
    ),
    reason: str = typer.Option(..., "--reason", metavar="REASON", help="Why the finding is accepted."),
    owner: str = typer.Option(
        ..., "--owner", metavar="OWNER", help="Who answers for the exception (person or team address)."
    ),
    expires: str = typer.Option(
        ..., "--expires", metavar="YYYY-MM-DD", help="Last day the exception applies."
    ),
    ticket: str | None = typer.Option(None, "--ticket", metavar="TICKET", help="Tracking issue for the fix."),
    platform: list[str] = typer.Option(
        [],
        "--platform",
        metavar="OS/ARCH",
        help="Only findings about this platform, os/arch[/variant] (repeatable).",
    ),
    digest: str | None = typer.Option(
        None, "--digest", metavar="DIGEST", help="Only this image: sha256:HEX (index or platform)."
    ),
    policy: Path | None = POLICY_OPTION,
    horizon_days: int | None = HORIZON_OPTION,
    fmt: str = ADD_FORMAT_OPTION,
) -> None:
    """Add an exception, keeping the file's comments and order; the file (and its directory) is
    created when missing.

    Examples:

    \b
      slsalint exceptions add slsalint-exceptions.yaml --rule SL302 --component fleet-agent \\
        --reason "legacy pipeline" --owner release@example.com --expires 2026-12-31
      slsalint exceptions add slsalint-exceptions.yaml --rule provenance-mode-min \\
        --component '*/rancher/fleet-agent' --platform linux/arm64 --ticket FLEET-123 \\
        --reason "arm64 runner" --owner release@example.com --expires 2026-12-31
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from slsalint.exceptions import normalize_rule, utc_today

    fmt = _format(fmt)
    loaded_policy = _policy(policy)
    horizon, warning = _settings(loaded_policy, horizon_days, None)
    today = utc_today()
    rule_id = normalize_rule(rule.strip(), f"--rule {rule}")
    component = _component(component, loaded_policy)
    date = _check_expiry(expires, today=today, horizon=horizon)
    platforms = _platforms(platform)
    if digest is not None and not _DIGEST.match(digest):
        raise ConfigError(f"--digest {digest}: expected sha256: followed by 64 lowercase hex digits")
    reason = _text(reason, "--reason")
    owner = _text(owner, "--owner")
    ticket = _text(ticket, "--ticket") if ticket is not None else None

    existing = _load(file, loaded_policy) if file.exists() else None
    key = (rule_id, component, frozenset(platforms), digest)
    if existing is not None:
        for entry in existing.entries:
            if entry.scope_key() == key:
                raise ConfigError(
                    f"{existing.where(entry)}: exception {entry.label} already exists "
                    "(use `slsalint exceptions renew` to extend it)"
                )

    yaml, document = _round_trip(file)
    item = CommentedMap()
    item["rule"] = rule_id
    item["component"] = component
    if platforms:
        seq = CommentedSeq(platforms)
        seq.fa.set_flow_style()
        item["platforms"] = seq
    if digest is not None:
        item["digest"] = digest
    item["reason"] = reason
    item["owner"] = owner
    if ticket is not None:
        item["ticket"] = ticket
    item["expires"] = date
    if document.get("exceptions") is None:
        document["exceptions"] = CommentedSeq()
    previous = document["exceptions"][-1] if document["exceptions"] else None
    document["exceptions"].append(item)
    if isinstance(previous, CommentedMap):
        _move_trailing_comments(previous, item)
    _write(file, yaml, document, loaded_policy)
    number = len(document["exceptions"])
    if fmt == "json":
        _print_written("added", file, number - 1, loaded_policy, warning, horizon)
        return
    scope = f" on {', '.join(platforms)}" if platforms else ""
    typer.echo(
        f"added exception #{number} to {file}: {rule_id} for {component}{scope}, expires {date.isoformat()}"
    )


def _print_written(
    action: str, file: Path, index: int, policy: Policy | None, warning: int, horizon: int
) -> None:
    """``--format json`` of add and renew: {action, file, exception} (the entry as list shows it)."""
    from slsalint.exceptions import utc_today

    row = _rows(_load(file, policy), utc_today(), warning, horizon)[index]
    document = {"action": action, "file": str(file), "exception": row}
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _move_trailing_comments(previous: Any, item: Any) -> None:
    """Comment lines after the last entry stay after the list: move them below the new entry.

    ruamel attaches them to the last key of the previous entry (after its end-of-line comment)."""
    from ruamel.yaml.tokens import CommentToken

    if not previous:
        return
    last_key = list(previous.keys())[-1]
    slot = previous.ca.items.get(last_key)
    if not slot or len(slot) < 3 or slot[2] is None:
        return
    token = slot[2]
    head, _, rest = str(token.value).partition("\n")
    if not rest.strip():
        return
    if head.strip():
        token.value = head + "\n"
    else:
        slot[2] = None
    item.ca.items[list(item.keys())[-1]] = [
        None,
        None,
        CommentToken("\n" + rest, token.start_mark, None),
        None,
    ]


def _find(
    exceptions: ExceptionsFile, rule: str, component: str, platforms: list[str], digest: str | None
) -> ExceptionEntry:
    from slsalint.exceptions import normalize_rule

    rule_id = normalize_rule(rule.strip(), f"--rule {rule}")
    found = [e for e in exceptions.entries if e.rule == rule_id and e.component == component.strip()]
    if platforms:
        found = [e for e in found if {str(p) for p in e.platforms} == set(platforms)]
    if digest is not None:
        found = [e for e in found if e.digest == digest]
    if not found:
        raise ConfigError(
            f"{exceptions.path}: no exception for {rule_id} on {component} (see `slsalint exceptions list`)"
        )
    if len(found) > 1:
        listed = ", ".join(f"{e.label} line {e.line}" for e in found)
        raise ConfigError(
            f"{exceptions.path}: {len(found)} exceptions match {rule_id} on {component}: {listed}; "
            "narrow it down with --platform and --digest"
        )
    return found[0]


@app.command("renew")
def renew(
    file: Path = FILE_ARGUMENT,
    rule: str = typer.Option(..., "--rule", metavar="RULE", help="Rule id or name of the exception."),
    component: str = typer.Option(
        ..., "--component", metavar="COMPONENT", help="Component (or image glob) of the exception."
    ),
    expires: str = typer.Option(..., "--expires", metavar="YYYY-MM-DD", help="The new last day."),
    platform: list[str] = typer.Option(
        [],
        "--platform",
        metavar="OS/ARCH",
        help="Select the exception with exactly these platforms (repeatable).",
    ),
    digest: str | None = typer.Option(
        None, "--digest", metavar="DIGEST", help="Select the exception pinned to this digest."
    ),
    reason: str | None = typer.Option(None, "--reason", metavar="REASON", help="Replace the reason."),
    owner: str | None = typer.Option(None, "--owner", metavar="OWNER", help="Replace the owner."),
    ticket: str | None = typer.Option(None, "--ticket", metavar="TICKET", help="Replace the ticket."),
    policy: Path | None = POLICY_OPTION,
    horizon_days: int | None = HORIZON_OPTION,
    fmt: str = ADD_FORMAT_OPTION,
) -> None:
    """Change the expiry (and optionally reason, owner, ticket) of one exception after review.

    Examples:

    \b
      slsalint exceptions renew slsalint-exceptions.yaml --rule SL302 --component fleet-agent \\
        --expires 2027-03-31
      slsalint exceptions renew slsalint-exceptions.yaml --rule SL302 --component fleet-agent \\
        --platform linux/arm64 --expires 2027-03-31 --ticket FLEET-124
    """
    from slsalint.exceptions import utc_today

    fmt = _format(fmt)
    loaded_policy = _policy(policy)
    horizon, warning = _settings(loaded_policy, horizon_days, None)
    date = _check_expiry(expires, today=utc_today(), horizon=horizon)
    exceptions = _load(file, loaded_policy)
    entry = _find(exceptions, rule, component, _platforms(platform), digest)
    yaml, document = _round_trip(file)
    item = document["exceptions"][entry.index]
    item["expires"] = date
    for key, value, option in (
        ("reason", reason, "--reason"),
        ("owner", owner, "--owner"),
        ("ticket", ticket, "--ticket"),
    ):
        if value is not None:
            item[key] = _text(value, option)
    _write(file, yaml, document, loaded_policy)
    if fmt == "json":
        _print_written("renewed", file, entry.index, loaded_policy, warning, horizon)
        return
    typer.echo(
        f"renewed exception {entry.label} in {exceptions.where(entry)}: expires "
        f"{entry.expires.isoformat()} -> {date.isoformat()}"
    )


# --- reading -------------------------------------------------------------------------------------


_STATUS_STYLE = {"active": "green", "expiring": "yellow", "expired": "bold red", "beyond-horizon": "bold red"}


def _rows(exceptions: ExceptionsFile, today: dt.date, warning: int, horizon: int) -> list[dict[str, Any]]:
    return [e.as_json(today, warning_days=warning, horizon_days=horizon) for e in exceptions.entries]


_HEADERS = {"number": "#", "daysLeft": "days left"}


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    import shutil

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from slsalint.report._common import sanitize

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(_HEADERS.get(column, column), overflow="fold")
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, list):
                value = ", ".join(value) or "-"
            if column == "digest" and isinstance(value, str):
                value = value[:19] + "…"
            text = Text(sanitize("-" if value is None else str(value)))
            if column == "status":
                text.stylize(_STATUS_STYLE.get(str(value), ""))
            cells.append(text)
        table.add_row(*cells)
    width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 200
    Console(highlight=False, soft_wrap=False, width=width).print(table)


@app.command("list")
def list_exceptions(
    file: Path = FILE_ARGUMENT,
    fmt: str = FORMAT_OPTION,
    policy: Path | None = POLICY_OPTION,
    as_of: str | None = AS_OF_OPTION,
    horizon_days: int | None = HORIZON_OPTION,
    warning_days: int | None = WARNING_OPTION,
) -> None:
    """List the exceptions with their status: active, expiring, expired (or beyond-horizon).

    JSON: {file, asOf, exceptions: [{number, rule, component, platforms, digest, reason, owner,
    ticket, expires, daysLeft, status, line}]}.

    Examples:

    \b
      slsalint exceptions list slsalint-exceptions.yaml
      slsalint exceptions list slsalint-exceptions.yaml --format json
      slsalint exceptions list slsalint-exceptions.yaml --as-of 2026-12-01 --warning-days 30
    """
    fmt = _format(fmt)
    loaded_policy = _policy(policy)
    horizon, warning = _settings(loaded_policy, horizon_days, warning_days)
    today = _today(as_of)
    exceptions = _load(file, loaded_policy)
    rows = _rows(exceptions, today, warning, horizon)
    if fmt == "json":
        document = {"file": str(file), "asOf": today.isoformat(), "exceptions": rows}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    if not rows:
        typer.echo(f"{file}: no exceptions")
        return
    columns = ["number", "rule", "component", "platforms"]
    columns += ["digest"] if any(r["digest"] for r in rows) else []
    columns += ["owner"] + (["ticket"] if any(r["ticket"] for r in rows) else [])
    _table(rows, [*columns, "expires", "daysLeft", "status", "line"])


@app.command("audit")
def audit(
    file: Path = FILE_ARGUMENT,
    fmt: str = FORMAT_OPTION,
    policy: Path | None = POLICY_OPTION,
    as_of: str | None = AS_OF_OPTION,
    horizon_days: int | None = HORIZON_OPTION,
    warning_days: int | None = WARNING_OPTION,
) -> None:
    """Exit 1 when an exception has expired or runs beyond the horizon (for pull requests that
    touch the file); expiring ones are listed as warnings. Exit 2 for a malformed file.

    JSON: {file, asOf, horizonDays, warningDays, exitCode, exceptions: [as for list]}.

    Examples:

    \b
      slsalint exceptions audit slsalint-exceptions.yaml
      slsalint exceptions audit slsalint-exceptions.yaml --policy slsalint.yaml --format json
    """
    fmt = _format(fmt)
    loaded_policy = _policy(policy)
    horizon, warning = _settings(loaded_policy, horizon_days, warning_days)
    today = _today(as_of)
    exceptions = _load(file, loaded_policy)
    rows = _rows(exceptions, today, warning, horizon)
    problems = [r for r in rows if r["status"] in ("expired", "beyond-horizon")]
    expiring = [r for r in rows if r["status"] == "expiring"]
    code = 1 if problems else 0
    if fmt == "json":
        document = {
            "file": str(file),
            "asOf": today.isoformat(),
            "horizonDays": horizon,
            "warningDays": warning,
            "exitCode": code,
            "exceptions": rows,
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        raise typer.Exit(code)
    from slsalint.report._common import sanitize

    for row in rows:
        where = f"{file}:{row['line']}" if row["line"] else str(file)
        owner = sanitize(row["owner"])
        what = f"#{row['number']} {row['rule']} for {sanitize(row['component'])} (owner {owner})"
        if row["status"] == "expired":
            typer.echo(f"{where}: error: {what} expired on {row['expires']}; fix the finding or renew it")
        elif row["status"] == "beyond-horizon":
            limit = (today + dt.timedelta(days=horizon)).isoformat()
            typer.echo(
                f"{where}: error: {what} expires {row['expires']}, beyond the {horizon}-day horizon "
                f"(latest allowed: {limit})"
            )
        elif row["status"] == "expiring" and not STATE.quiet:  # --quiet: only what fails
            days = row["daysLeft"]
            typer.echo(
                f"{where}: warning: {what} expires {row['expires']} (in {days} day{'s' if days != 1 else ''})"
            )
    typer.echo(
        f"{file}: {len(rows)} exception{'s' if len(rows) != 1 else ''}, {len(problems)} expired or "
        f"beyond the horizon, {len(expiring)} expiring within {warning} days "
        f"(as of {today.isoformat()}; exit {code})"
    )
    raise typer.Exit(code)
