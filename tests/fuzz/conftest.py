"""Fuzzing with hypothesis: bounded and reproducible in `make test`, long in `make fuzz`.

Profiles (``SLSALINT_FUZZ`` selects one; default ``ci``):

- ``ci``: derandomized (a fixed seed derived from each test), a bounded number of examples per
  target, no deadline: the same inputs on every run and every machine.
- ``fuzz``: random, many examples per target (``SLSALINT_FUZZ_EXAMPLES``, default 20,000), for
  ``make fuzz``; hypothesis keeps the failures it finds in ``.hypothesis/`` and replays them first.

Each fuzz target asserts the fail-closed contract on arbitrary input: the code under test either
returns a value of the documented shape or raises its documented one-line error; it never raises
anything else, never hangs, and never accepts what it must refuse.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=int(os.environ.get("SLSALINT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("SLSALINT_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("SLSALINT_FUZZ", "ci"))
