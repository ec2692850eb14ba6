""" "Did you mean ...?" for names a user types: rule ids and names, packs, components, flags."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], *, limit: int = 3) -> list[str]:
    """The choices closest to ``word`` (case-insensitive), best first; empty when none is close."""
    options = sorted(set(choices))
    by_lower: dict[str, str] = {}
    for option in options:
        by_lower.setdefault(option.lower(), option)
    lowered = word.lower()
    prefixed = [by_lower[o] for o in by_lower if len(lowered) >= 3 and lowered in o and o != lowered]
    hits = [by_lower[h] for h in difflib.get_close_matches(lowered, list(by_lower), n=limit, cutoff=0.6)]
    return list(dict.fromkeys([*prefixed, *hits]))[:limit]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)``, `` (did you mean X or Y?)`` or ``""``."""
    hits = closest(word, choices, limit=2)
    if not hits:
        return ""
    return f" (did you mean {' or '.join(hits)}?)"


def unknown(what: str, word: str, choices: Iterable[str]) -> str:
    """One line: ``unknown WHAT 'word' (did you mean ...?); expected one of ...`` for short lists."""
    options = sorted(set(choices))
    hint = did_you_mean(word, options)
    listing = f"; expected one of {', '.join(options)}" if len(options) <= 8 else ""
    return f"unknown {what} {word!r}{hint}{listing}"
