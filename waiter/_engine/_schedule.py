"""The wait schedule of one task: backoff's exponential caps, jitter, Retry-After, deadline.

Pure arithmetic: randomness and time come from the caller, so tests can assert exact waits.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import backoff

__all__ = ["LAST_POLL_GRACE", "Schedule", "Wait", "clamp_to_deadline"]

# How long the last poll, made at the deadline, may take before it is cut.
LAST_POLL_GRACE = 0.5


class Schedule:
    """Waits between polls of a task.

    Before poll n+1 (n >= 1) the wait is uniform between ``min_interval`` and
    ``min(max_interval, min_interval * 2**(n-1))``: the first wait is exactly ``min_interval``,
    then the upper bound doubles up to ``max_interval``. The bounds come from ``backoff.expo``,
    read once: every task follows the same sequence, so a task needs only its poll count, not
    a generator of its own (which would cost a frame per task at 100,000 tasks). The jitter is
    drawn from the injected ``rng`` rather than backoff's jitter functions, which use the
    global random state and a lower bound of zero.
    """

    def __init__(self, min_interval: float, max_interval: float, rng: random.Random) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._rng = rng
        self.caps = _caps(min_interval, max_interval)
        self._steps = len(self.caps)

    def wait(self, polls: int) -> float:
        """The wait after poll number ``polls`` (1 for the first), before the next one."""
        steps = self._steps
        cap = self.caps[(polls if polls < steps else steps) - 1]
        return self._rng.uniform(self.min_interval, cap)


def _caps(min_interval: float, max_interval: float) -> list[float]:
    """backoff's exponential sequence, from the first wait until it reaches its cap."""
    generator = backoff.expo(base=2, factor=min_interval, max_value=max_interval)
    generator.send(None)  # backoff's generators yield a priming 0 first
    caps = [next(generator)]
    while caps[-1] < max_interval:
        caps.append(next(generator))
    return caps


class Wait(NamedTuple):
    """A wait and whether it ends at the deadline: a tuple, as one is made every poll."""

    seconds: float
    last: bool  # True when the wait was cut to end at the deadline: one last poll, then stop


def clamp_to_deadline(
    scheduled: float, *, retry_after: float | None, now: float, deadline: float
) -> Wait:
    """Lengthen to the server's Retry-After, then cut a wait that would cross the deadline."""
    seconds = retry_after if retry_after and retry_after > scheduled else scheduled
    remaining = deadline - now
    if seconds >= remaining:
        return Wait(remaining if remaining > 0.0 else 0.0, True)
    return Wait(seconds, False)
