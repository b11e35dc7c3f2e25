"""The wait schedule: exact bounds with injected randomness, Retry-After and the deadline."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waiter._engine._schedule import Schedule, clamp_to_deadline


class _Extremes(random.Random):
    """Always draws the lowest or the highest value, to pin the bounds exactly."""

    def __init__(self, high: bool) -> None:
        super().__init__()
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def _waits(schedule: Schedule, count: int) -> list[float]:
    return [schedule.wait(polls) for polls in range(1, count + 1)]


def test_upper_bounds_double_from_min_to_max():
    assert _waits(Schedule(2, 20, _Extremes(high=True)), 7) == [2, 4, 8, 16, 20, 20, 20]


def test_the_bounds_come_from_backoffs_generator():
    assert Schedule(2, 20, random.Random(0)).caps == [2, 4, 8, 16, 20]


def test_lower_bound_is_always_min_interval():
    assert _waits(Schedule(2, 20, _Extremes(high=False)), 5) == [2, 2, 2, 2, 2]


def test_equal_min_and_max_give_a_constant_wait():
    assert _waits(Schedule(5, 5, random.Random(1)), 4) == [5, 5, 5, 5]


@given(
    min_interval=st.floats(0.01, 60),
    spread=st.floats(1, 100),
    seed=st.integers(0, 2**32),
)
def test_every_wait_lies_within_the_contract_bounds(min_interval, spread, seed):
    max_interval = min_interval * spread
    waits = _waits(Schedule(min_interval, max_interval, random.Random(seed)), 30)
    for n, wait in enumerate(waits, start=1):
        upper = min(max_interval, min_interval * 2 ** (n - 1))
        assert min_interval <= wait <= upper * (1 + 1e-9)


@given(
    scheduled=st.floats(0, 100),
    retry_after=st.none() | st.floats(0, 1000),
    remaining=st.floats(0.001, 1000),
)
def test_retry_after_lengthens_never_shortens_and_the_deadline_cuts(
    scheduled, retry_after, remaining
):
    deadline = 50.0 + remaining
    remaining = deadline - 50.0  # what is left, as the floats see it
    wait = clamp_to_deadline(scheduled, retry_after=retry_after, now=50.0, deadline=deadline)
    wanted = max(scheduled, retry_after or 0)
    assert wait.seconds <= remaining + 1e-9
    if wanted < remaining:
        assert wait.seconds == wanted
        assert not wait.last
    else:
        assert wait.seconds == pytest.approx(remaining)
        assert wait.last


def test_a_wait_past_the_deadline_ends_exactly_at_it():
    wait = clamp_to_deadline(8, retry_after=None, now=95, deadline=100)
    assert (wait.seconds, wait.last) == (5, True)


def test_already_past_the_deadline_waits_zero_and_is_last():
    wait = clamp_to_deadline(8, retry_after=None, now=101, deadline=100)
    assert (wait.seconds, wait.last) == (0, True)
