"""The one YAML reader for configuration files: the policy, exceptions files and rule packs.

YAML is read with ruamel's round-trip loader, so the document keeps the line of every key and item
for error messages, and it is read strictly and bounded, whatever the file holds:

- Size (``MAX_BYTES``), nesting (``MAX_DEPTH``), aliases (``MAX_ALIASES``) and the number of nodes
  the document has once its aliases are expanded (``MAX_NODES``) are bounded while the file is
  parsed, before anything is built from it: a billion-laughs alias bomb or thousands of nested
  brackets stop at the first event past the bound, in milliseconds.
- A recursive alias, an alias to an undefined or reused anchor, a sequence or mapping used as a
  mapping key, a duplicate key, a tag other than YAML's own scalar and collection tags, a
  ``%YAML`` directive other than 1.2, ``.nan`` / ``.inf`` and numbers that overflow, an integer
  longer than ``MAX_INT_DIGITS`` digits and a string holding a lone UTF-16 surrogate are refused.
- Dates stay text (``2026-12-31`` is the string ``"2026-12-31"``): the loaders that expect a date
  check it themselves and report an impossible one (month 13) with its entry.

Every failure is a ``ConfigError`` (exit 2) whose message is one line naming the file, the line
when known, and the problem; a fault while reading the file is an ``OperationalError`` (exit 3).
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

from slsalint import fileio
from slsalint.errors import ConfigError, OperationalError

MAX_BYTES = 1024 * 1024
"""Largest configuration file read (bytes); real policies and exceptions files are a few KiB."""
MAX_DEPTH = 64
"""Deepest nesting of sequences and mappings (aliases expanded)."""
MAX_ALIASES = 100
"""Most aliases (``*name``) in one file."""
MAX_NODES = 100_000
"""Most nodes (scalars, sequences, mappings) in one file once its aliases are expanded."""
MAX_INT_DIGITS = 64
"""Longest integer accepted, in digits (as in JSON documents)."""

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    {"!", *(f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))}
)
"""Explicit tags accepted (``!!str 1``); no others (``!!binary``, ``!!set``, ``!!python/...``,
application tags) mean anything to slsalint."""

_INTEGER = re.compile(r"\A(?:0x(?P<hex>[0-9a-fA-F]+)|0o(?P<oct>[0-7]+)|0b(?P<bin>[01]+)|(?P<dec>[0-9]+))\Z")
_FLOAT = re.compile(r"\A[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = re.compile(r"\A(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z")
_NON_FINITE = frozenset({".nan", ".inf", "nan", "inf", "infinity"})


def _line(event: Any) -> int | None:
    mark = getattr(event, "start_mark", None)
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


class _Refused(Exception):
    """Raised inside the parser; becomes a ConfigError naming the file."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


class _Frame:
    __slots__ = ("anchor", "children", "depth", "is_map", "size")

    def __init__(self, anchor: str | None, is_map: bool) -> None:
        self.anchor = anchor
        self.is_map = is_map
        self.children = 0
        self.size = 1
        self.depth = 0
        """Levels of nesting below this collection (0: only scalars inside)."""


class _Guard:
    """Checks each parser event as the loader consumes it (see the module documentation)."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[int, int, bool]] = {}
        """anchor -> (expanded size, nesting depth, is a collection)."""
        self.defined: set[str] = set()
        self.aliases = 0
        self.nodes = 0

    def see(self, event: Any) -> None:
        from ruamel.yaml import events

        if isinstance(event, events.DocumentStartEvent):
            version = getattr(event, "version", None)
            if version is not None and tuple(version) != (1, 2):
                raise _Refused(_line(event), f"%YAML {'.'.join(map(str, version))}: only YAML 1.2 is read")
            return
        if isinstance(event, events.AliasEvent):
            self._alias(event)
        elif isinstance(event, events.ScalarEvent):
            self._node(event, is_collection=False)
            self._scalar(event)
            self._added(event, 1, 0)
            if event.anchor is not None:
                self.anchors[event.anchor] = (1, 0, False)
        elif isinstance(event, events.SequenceStartEvent | events.MappingStartEvent):
            self._node(event, is_collection=True)
            frame = _Frame(event.anchor, isinstance(event, events.MappingStartEvent))
            self.stack.append(frame)
            if len(self.stack) > MAX_DEPTH:
                raise _Refused(_line(event), f"nested more than {MAX_DEPTH} levels deep")
            self._count(event, 1)
        elif isinstance(event, events.SequenceEndEvent | events.MappingEndEvent):
            frame = self.stack.pop()
            if frame.anchor is not None:
                self.anchors[frame.anchor] = (frame.size, frame.depth + 1, True)
            self._added(event, frame.size, frame.depth + 1, counted=True)

    def _node(self, event: Any, *, is_collection: bool) -> None:
        anchor = event.anchor
        if anchor is not None:
            if anchor in self.defined:
                raise _Refused(_line(event), f"anchor &{anchor} is defined twice")
            self.defined.add(anchor)
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in ALLOWED_TAGS:
            shown = str(tag).replace(_CORE, "!!")
            raise _Refused(_line(event), f"unsupported YAML tag {shown}")
        if is_collection and self._at_key():
            kind = "mapping" if type(event).__name__.startswith("Mapping") else "sequence"
            raise _Refused(_line(event), f"a {kind} is used as a mapping key; keys must be plain values")
        if self.stack:
            self.stack[-1].children += 1

    def _at_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].is_map and self.stack[-1].children % 2 == 0

    def _scalar(self, event: Any) -> None:
        value: str = event.value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused(_line(event), "a string holds a lone UTF-16 surrogate (not text)") from None
        tag = str(getattr(event, "tag", None) or "")
        if not ((event.style is None and not tag) or tag in (f"{_CORE}int", f"{_CORE}float")):
            return  # a quoted or explicitly tagged string: text, whatever it looks like
        text = value.strip().replace("_", "")
        unsigned = text.lstrip("+-")
        if _SPECIAL_FLOAT.match(text) or (tag == f"{_CORE}float" and unsigned.lower() in _NON_FINITE):
            raise _Refused(_line(event), f"{value.strip()[:40]} is not a finite number")
        integer = _INTEGER.match(unsigned)
        if integer:
            digits = len(next(g for g in integer.groups() if g is not None))
            if digits > MAX_INT_DIGITS:
                raise _Refused(_line(event), f"integer of {digits} digits is too long")
            return
        if _FLOAT.match(unsigned) and any(c.isdigit() for c in unsigned):
            try:
                number = float(unsigned)
            except ValueError:
                return
            if not math.isfinite(number):
                raise _Refused(_line(event), f"number {value.strip()[:40]} is out of range")

    def _alias(self, event: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _Refused(_line(event), f"more than {MAX_ALIASES} aliases")
        anchor = event.anchor
        if any(frame.anchor == anchor for frame in self.stack):
            raise _Refused(_line(event), f"alias *{anchor} refers to a collection that contains it")
        if anchor not in self.anchors:
            raise _Refused(_line(event), f"alias *{anchor} names no anchor defined before it")
        size, depth, is_collection = self.anchors[anchor]
        if is_collection and self._at_key():
            raise _Refused(_line(event), f"alias *{anchor} to a collection is used as a mapping key")
        if self.stack:
            self.stack[-1].children += 1
        if len(self.stack) + depth > MAX_DEPTH:
            raise _Refused(
                _line(event), f"alias *{anchor} nests the document more than {MAX_DEPTH} levels deep"
            )
        self._added(event, size, depth)

    def _count(self, event: Any, size: int) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise _Refused(_line(event), f"more than {MAX_NODES} values once aliases are expanded")

    def _added(self, event: Any, size: int, depth: int, *, counted: bool = False) -> None:
        """A finished node of ``size`` expanded nodes and ``depth`` levels joins its parent."""
        if not counted:
            self._count(event, size)
        if self.stack:
            parent = self.stack[-1]
            parent.size += size
            parent.depth = max(parent.depth, depth)


def round_trip(*, dates_as_text: bool = True) -> Any:
    """A ruamel round-trip ``YAML`` instance whose loading is guarded (see the module
    documentation); ``dates_as_text=False`` keeps YAML timestamps as dates, for editing a file
    without changing how its dates are written. Load with :func:`loads` (``yaml=``)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.events import StreamStartEvent
    from ruamel.yaml.parser import RoundTripParser

    class _Parser(RoundTripParser):
        guard: _Guard | None = None

        def get_event(self) -> Any:
            event = super().get_event()
            if self.guard is None or isinstance(event, StreamStartEvent):
                self.guard = _Guard()  # a fresh guard for each stream loaded
            self.guard.see(event)
            return event

    class _Constructor(RoundTripConstructor):
        dates_as_text = True

        def construct_yaml_str(self, node: Any) -> Any:
            return self.construct_scalar(node)  # ``!!str 1`` is the string "1", not a tagged value

    _Constructor.add_constructor(f"{_CORE}str", _Constructor.construct_yaml_str)
    if dates_as_text:
        _Constructor.add_constructor(f"{_CORE}timestamp", _Constructor.construct_yaml_str)
    yaml = YAML(typ="rt")
    yaml.Parser = _Parser
    _Constructor.dates_as_text = dates_as_text
    yaml.Constructor = _Constructor
    return yaml


_PLAIN_TYPES = (str, int, float, type(None))


def _check_values(document: Any, *, dates: bool) -> None:
    """Every value built is a plain one (string, number, boolean, null, list, mapping; a date when
    editing): whatever the guard did not foresee (a merge key outside a mapping, an implicit tag)
    is refused rather than handed to the caller."""
    import datetime as dt

    allowed = (*_PLAIN_TYPES, dt.date) if dates else _PLAIN_TYPES
    seen: set[int] = set()
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            pending.extend(item)
        elif not isinstance(item, allowed) or (isinstance(item, dt.datetime) and not dates):
            line = getattr(getattr(item, "lc", None), "line", None)
            raise _Refused(line + 1 if isinstance(line, int) else None, f"unsupported value {_short(item)}")


def _short(value: Any) -> str:
    text = getattr(value, "value", None)
    shown = repr(text if isinstance(text, str) else str(value))
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _first_line(text: str) -> str:
    line = " ".join(text.split("\n", 1)[0].split())
    return line if len(line) <= 200 else line[:199] + "…"


def loads(text: str, name: str | Path, *, yaml: Any = None) -> Any:
    """Parse configuration YAML text (see the module documentation); ``name`` is the file it came
    from, named in the one-line ``ConfigError``. ``yaml`` is a :func:`round_trip` instance to use
    (default: a new one, dates as text)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_BYTES:
        raise ConfigError(
            f"{name}: larger than the limit of {MAX_BYTES // 1024} KiB for a configuration file"
        )
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 byte order mark is allowed by YAML 1.2 and means nothing
    yaml = yaml if yaml is not None else round_trip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns on stderr of what the guard refuses anyway
            document = yaml.load(text)
        _check_values(document, dates=not getattr(yaml.Constructor, "dates_as_text", True))
        return document
    except _Refused as exc:
        where = f"{name}:{exc.line}" if exc.line else str(name)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError(f"{name}{line}: invalid YAML: {_first_line(str(problem))}") from None
    except YAMLError as exc:
        position = getattr(exc, "position", None)  # a ReaderError: a character that is not allowed
        line = f":{text.count(chr(10), 0, position) + 1}" if isinstance(position, int) else ""
        raise ConfigError(f"{name}{line}: invalid YAML: {_first_line(str(exc))}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # A value the loader cannot build (whatever the guard did not foresee): still one line.
        raise ConfigError(f"{name}: invalid YAML: {_first_line(str(exc)) or type(exc).__name__}") from None


def read_text(path: Path, *, what: str = "file") -> str:
    """The text of a configuration file (regular file, bounded, UTF-8); ConfigError when it cannot
    be used (missing, not a regular file, too large, not UTF-8), OperationalError for a fault while
    reading it. ``what`` names the kind of file in the message for a missing one."""
    try:
        return fileio.read_text(path, limit=MAX_BYTES)
    except fileio.FileReadError as exc:
        if exc.fault:
            raise OperationalError(str(exc)) from None
        if exc.problem == "no such file" and what != "file":
            raise ConfigError(f"{path}: no such {what}") from None
        raise ConfigError(str(exc)) from None


def load(path: Path, *, what: str = "file") -> Any:
    """Read and parse a configuration file (``read_text`` then ``loads``)."""
    return loads(read_text(path, what=what), path)


def plain(value: Any) -> Any:
    """The document as plain JSON values (dicts with string keys, lists, scalars)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load", "loads", "plain", "read_text"]
