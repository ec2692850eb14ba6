"""Did the build record a secret in its provenance?"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from slsalint.checks.base import STRING_LIST, Check, CheckContext, options_schema
from slsalint.model import Finding, Level

SECRET_NAME = re.compile(
    r"(?i)(secret|token|passw(or)?d|passwd|pwd|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|auth|client[_-]?secret|signing[_-]?key|npmrc|pypirc)"
)
SECRET_VALUE = re.compile(
    r"(ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|"
    r"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|xox[abpors]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{20,}|"
    r"npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
_SECRET_NAME_LOWER = re.compile(SECRET_NAME.pattern.removeprefix("(?i)"))
"""``SECRET_NAME`` without ``(?i)``, for ASCII names lowercased: the pattern is lowercase
literals, so it matches ``name.lower()`` exactly when ``SECRET_NAME`` matches an ASCII ``name``
(and runs several times faster than the case-insensitive search). Other names, which may hold
the non-ASCII letters ``(?i)`` equates with ASCII ones (U+017F long s, U+212A Kelvin sign,
U+0130 and U+0131), take ``SECRET_NAME``."""


def secret_name(name: str) -> bool:
    """Whether the build argument name ``name`` looks like a secret (``SECRET_NAME``)."""
    if name.isascii():
        return _SECRET_NAME_LOWER.search(name.lower()) is not None
    return SECRET_NAME.search(name) is not None


SHORTEST_SECRET_VALUE = 15
"""No value shorter than this can match ``SECRET_VALUE`` (its shortest match, ``xoxb-`` and ten
characters), so shorter values are not searched."""
_BENIGN_VALUES = frozenset({"", "true", "false", "0", "1", "none", "null", "yes", "no"})


def redact(value: str) -> str:
    """Show enough of a value to recognise it, never the secret itself."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…({len(value)} chars)"


class SecretInBuildArgs(Check):
    """Build arguments recorded in provenance must not contain secrets.

    **What it checks.** BuildKit ``mode=max`` provenance records every build argument
    (``invocation.parameters.args`` in v0.2, ``externalParameters.request.args`` in v1), and
    workflow provenance records workflow inputs. An argument is reported when its name looks like a
    secret (``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``, ``*AUTH*``, ...) and its value
    is not empty or a boolean, or when its value looks like a credential (GitHub, GitLab, AWS, Slack,
    Stripe, npm, PyPI and Google keys, JWTs, PEM private keys). Labels (``label:*``) are checked by
    value only. Values are never printed; findings show a redacted prefix.

    **Why it matters.** Provenance is published next to the image and readable by anyone who can pull
    it; a token passed with ``--build-arg`` is leaked to all of them.

    **How to fix.** Rotate the secret now. Then pass it with ``docker buildx build --secret
    id=token,env=TOKEN`` and ``RUN --mount=type=secret,id=token``, which BuildKit never records.

    **Options.** ``allow``: argument names (globs) that are known not to be secrets;
    ``patterns``: extra regular expressions for secret names.

    **Passing example.** ``"build-arg:VERSION": "1.2.3"``.

    **Failing example.** ``"build-arg:GITHUB_TOKEN": "ghp_..."``.
    """

    id = "SL501"
    name = "secret-in-build-args"
    level = Level.ERROR
    summary = "A build arg recorded in max-mode provenance looks like a secret"
    remediation = "rotate the secret and pass it with --secret / RUN --mount=type=secret instead"
    security_severity = 9.0
    options_schema = options_schema({"allow": STRING_LIST, "patterns": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        allow: list[str] = ctx.options.get("allow") or []
        patterns = ctx.options.get("patterns")
        extra = [re.compile(p, re.IGNORECASE) for p in patterns] if patterns else []
        for platform, attestation, view in ctx.provenance():
            for key, value in view.build_args.items():
                kind, _, name = key.partition(":") if ":" in key else ("", "", key)
                if allow and any(fnmatchcase(name, pattern) for pattern in allow):
                    continue
                by_value = len(value) >= SHORTEST_SECRET_VALUE and bool(SECRET_VALUE.search(value))
                by_name = (
                    kind != "label"
                    and value.strip().lower() not in _BENIGN_VALUES
                    and (secret_name(name) or (bool(extra) and any(p.search(name) for p in extra)))
                )
                if not (by_value or by_name):
                    continue
                reason = "its value looks like a credential" if by_value else "its name looks like a secret"
                pointer = f"{view.build_args_pointer}/{_escape(key)}" if view.build_args_pointer else None
                yield ctx.finding(
                    f"build argument {key!r} is recorded in the provenance and {reason} "
                    f"(value {redact(value)})",
                    platform=platform,
                    attestation=attestation,
                    pointer=pointer,
                    expected="no secrets in recorded build arguments",
                    actual=f"{key}={redact(value)}",
                    remediation=self.remediation,
                )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
