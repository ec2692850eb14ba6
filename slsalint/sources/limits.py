"""Every time and size limit of reading registries, layouts and GitHub, in one place.

Each limit has a default and a name for ``--limit NAME=VALUE`` (``check``, ``explain``, ``fetch``);
the whole run's deadline is ``--timeout SECONDS``. docs/registries.md lists them all. A limit that
is reached is never a pass: a request that runs out of time or retries is exit 3, a document over
its size limit is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from slsalint.errors import ConfigError

KiB = 1024
MiB = 1024 * KiB

DEFAULT_RUN_TIMEOUT = 600.0
"""``--timeout``: seconds the whole run may spend reading registries and GitHub (0: no limit)."""


@dataclass(frozen=True)
class Limit:
    name: str
    kind: str
    """``seconds``, ``bytes`` or ``count``."""
    help: str


@dataclass(frozen=True)
class Limits:
    """Bounds on every request and document (see the module documentation)."""

    connect_timeout: float = 5.0
    """Seconds to open a connection (TCP and TLS)."""
    read_timeout: float = 10.0
    """Longest silence while waiting for bytes of an answer."""
    request_timeout: float = 30.0
    """Seconds one request may take in all, body included (a server dripping bytes hits it)."""
    retry_timeout: float = 45.0
    """Seconds one request may take with all its retries (429, 5xx, broken connections): the
    time after which a stalled or rate-limiting registry is given up on."""
    retries: int = 4
    """Retries of one request after a 429, a 5xx or a broken connection."""
    manifest_size: int = 4 * MiB
    """Largest manifest, index, referrers page, tag list or token answer read from a registry."""
    blob_size: int = 64 * MiB
    """Largest evidence blob (attestation layer, config) read from a registry, layout or cache."""
    index_size: int = 8 * MiB
    """Largest ``index.json`` of an OCI layout."""
    index_depth: int = 4
    """Deepest nesting of image indexes followed below the index named (an index in an index)."""
    index_entries: int = 1024
    """Most manifests an image index and the indexes nested in it may list together."""
    referrers: int = 256
    """Most referrers read for one digest (all pages together)."""
    referrer_pages: int = 50
    """Most ``Link`` pages of one referrers listing."""
    connections: int = 256
    """Most requests in flight to one registry host at once, over all the images a run reads
    (each an HTTP/1.1 connection kept open for reuse)."""
    github_listing_size: int = 32 * MiB
    """Largest page of GitHub's attestations API."""
    github_bundle_size: int = 16 * MiB
    """Largest bundle read from a GitHub ``bundle_url`` (after decompression)."""

    def with_values(self, values: dict[str, Any]) -> Limits:
        return replace(self, **values)


LIMITS: tuple[Limit, ...] = (
    Limit("connect-timeout", "seconds", "open a connection (TCP and TLS)"),
    Limit("read-timeout", "seconds", "longest silence while waiting for bytes"),
    Limit("request-timeout", "seconds", "one request in all, body included"),
    Limit("retry-timeout", "seconds", "one request with all its retries (stalled registry, 429, 5xx)"),
    Limit("retries", "count", "retries of one request after a 429, a 5xx or a broken connection"),
    Limit("manifest-size", "bytes", "manifest, index, referrers page, tag list or token answer"),
    Limit("blob-size", "bytes", "evidence blob from a registry, layout or the cache"),
    Limit("index-size", "bytes", "index.json of an OCI layout"),
    Limit("index-depth", "count", "nesting of image indexes below the one named"),
    Limit("index-entries", "count", "manifests listed by an image index and its nested indexes"),
    Limit("referrers", "count", "referrers read for one digest"),
    Limit("referrer-pages", "count", "Link pages of one referrers listing"),
    Limit("connections", "count", "requests in flight to one registry host at once"),
    Limit("github-listing-size", "bytes", "one page of GitHub's attestations API"),
    Limit("github-bundle-size", "bytes", "one bundle from a GitHub bundle_url"),
)
_BY_NAME = {limit.name: limit for limit in LIMITS}
_FIELD = {limit.name: limit.name.replace("-", "_") for limit in LIMITS}
_SIZE = re.compile(r"\A([0-9]+(?:\.[0-9]+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?\Z", re.IGNORECASE)
_SCALE = {"": 1, "b": 1, "k": KiB, "kb": KiB, "kib": KiB, "m": MiB, "mb": MiB, "mib": MiB}
_SCALE |= {"g": 1024 * MiB, "gb": 1024 * MiB, "gib": 1024 * MiB}

assert set(_FIELD.values()) == {f.name for f in fields(Limits)}


def parse_limits(items: list[str], base: Limits | None = None) -> Limits:
    """``--limit NAME=VALUE`` (repeatable) -> Limits; a bad item is a usage error (exit 2).

    Seconds are positive numbers, byte sizes take ``K``/``M``/``G`` (powers of 1024), counts are
    integers (``retries`` may be 0)."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name, raw = name.strip().lower(), raw.strip()
        limit = _BY_NAME.get(name)
        if limit is None:
            known = ", ".join(_BY_NAME)
            raise ConfigError(f"--limit {item}: unknown limit {name!r} (known: {known})")
        if not sep or not raw:
            raise ConfigError(f"--limit {item}: expected {name}=VALUE")
        values[_FIELD[name]] = _value(item, limit, raw)
    return (base or Limits()).with_values(values)


def _value(item: str, limit: Limit, raw: str) -> float:
    if limit.kind == "seconds":
        try:
            seconds = float(raw.removesuffix("s"))
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= 86400:
            raise ConfigError(f"--limit {item}: expected seconds (a number above 0, at most 86400)")
        return seconds
    if limit.kind == "count":
        if not raw.isdigit() or int(raw) > 1_000_000 or (int(raw) == 0 and limit.name != "retries"):
            lowest = 0 if limit.name == "retries" else 1
            raise ConfigError(f"--limit {item}: expected a whole number from {lowest} to 1000000")
        return int(raw)
    match = _SIZE.match(raw)
    if not match:
        raise ConfigError(f"--limit {item}: expected a size such as 512K, 64M or 1G")
    size = int(float(match.group(1)) * _SCALE[(match.group(2) or "").lower()])
    if not 1 <= size <= 16 * 1024 * MiB:
        raise ConfigError(f"--limit {item}: expected a size from 1 byte to 16G")
    return size


def parse_timeout(value: float | None) -> float | None:
    """``--timeout SECONDS`` -> the run's budget in seconds (None: no limit). Exit 2 when negative."""
    if value is None:
        return DEFAULT_RUN_TIMEOUT
    if value != value or value < 0:  # NaN or negative
        raise ConfigError(f"--timeout {value}: expected seconds (0 for no limit)")
    return None if value == 0 else float(value)
