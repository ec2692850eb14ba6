"""Operational failures. Findings are values; these are for when no honest report can be made.

Each class maps to one exit code of SPEC §8.
"""

from __future__ import annotations


class SlsalintError(Exception):
    """Base class. ``str(error)`` is one line naming the file or reference and what is wrong."""

    exit_code = 4


class ConfigError(SlsalintError):
    """Usage or configuration error: bad flags, policy, exceptions file, target syntax (exit 2)."""

    exit_code = 2


class OperationalError(SlsalintError):
    """Evidence or target could not be read: unreachable, refused, corrupt target (exit 3)."""

    exit_code = 3


class NotAnImage(ConfigError):
    """The reference names a signature, attestation or other artifact instead of an image."""

    def __init__(self, message: str, *, what: str, image: str | None) -> None:
        super().__init__(message)
        self.what = what
        self.image = image
        """The reference of the image the artifact belongs to, when known."""


class InternalError(SlsalintError):
    """A bug met while working on an input (exit 4): the message names the input and the problem."""

    def __init__(self, doing: str, error: BaseException) -> None:
        problem = str(error).splitlines()[0][:200] if str(error).strip() else "no detail"
        super().__init__(
            f"internal error {doing}: {type(error).__name__}: {problem}. This is a bug; please report it "
            "with the command you ran and the output of --debug"
        )
