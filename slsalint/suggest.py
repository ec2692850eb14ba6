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
    close = difflib.get_close_matches(lowered, list(by_lower), n=limit, cutoff=0.6)
    if close:  # only the near-best: "SL21" is SL201, not also SL902
        ratio = {h: difflib.SequenceMatcher(None, lowered, h).ratio() for h in close}
        best = max(ratio.values())
        close = sorted((h for h in close if ratio[h] >= best - 0.1), key=lambda h: (-ratio[h], h))
    hits = [by_lower[h] for h in close]
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


def rule_hint(word: str, extra: Iterable[str] = ()) -> str:
    """:func:`did_you_mean` over the built-in rules' ids and names and ``extra`` (Rego rule ids)."""
    from slsalint.checks import builtin_rules

    choices = [name for meta in builtin_rules() for name in (meta.id, meta.name)]
    return did_you_mean(word.strip(), [*choices, *extra])


def option_hint(word: str, options: Iterable[str]) -> str:
    """:func:`did_you_mean` for a mistyped ``--flag`` (``--polcy`` -> ``--policy``), long options
    only, compared without their dashes; ``--flag=value`` is compared as ``--flag``."""
    flag = word.split("=", 1)[0]
    longs = {o.lstrip("-"): o for o in options if o.startswith("--")}
    hits = closest(flag.lstrip("-"), longs, limit=2)
    if not hits:
        return ""
    return f" (did you mean {' or '.join(longs[h] for h in hits)}?)"
