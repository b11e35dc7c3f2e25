"""The wait schedule of one task: backoff's exponential caps, jitter, Retry-After, deadline.

Pure arithmetic: randomness and time come from the caller, so tests can assert exact waits.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import backoff

__all__ = ["Schedule", "Wait", "clamp_to_deadline"]


class Schedule:
    """Waits between polls of one task.

    Before poll n+1 (n >= 1) the wait is uniform between ``min_interval`` and
    ``min(max_interval, min_interval * 2**(n-1))``: the first wait is exactly ``min_interval``,
    then the upper bound doubles up to ``max_interval``. The bounds come from ``backoff.expo``;
    the jitter is drawn from the injected ``rng`` rather than backoff's own jitter functions,
    which use the global random state and a lower bound of zero.
    """

    def __init__(self, min_interval: float, max_interval: float, rng: random.Random) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._rng = rng

    def caps(self) -> Iterator[float]:
        """The upper bound of each successive wait."""
        generator = backoff.expo(base=2, factor=self.min_interval, max_value=self.max_interval)
        generator.send(None)  # backoff's generators yield a priming 0 first
        return generator

    def waits(self) -> Iterator[float]:
        """An endless stream of waits for one task, before poll 2, 3, ..."""
        for cap in self.caps():
            yield self._rng.uniform(self.min_interval, cap)


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    last: bool  # True when the wait was cut to end at the deadline: one last poll, then stop


def clamp_to_deadline(
    scheduled: float, *, retry_after: float | None, now: float, deadline: float
) -> Wait:
    """Lengthen to the server's Retry-After, then cut a wait that would cross the deadline."""
    seconds = max(scheduled, retry_after or 0.0)
    remaining = deadline - now
    if seconds >= remaining:
        return Wait(max(remaining, 0.0), last=True)
    return Wait(seconds, last=False)
