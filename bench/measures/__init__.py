"""The benchmark's measurements, one module each, in the order they run and are reported.

Each has ``measure(plan)`` (its figures, as JSON-ready data), ``rows(figures)`` (its lines of
the table) and, where a reader needs more to judge them, ``notes(figures)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import bulk_lag, help_time, instructions, lag, mass_endings, memory, polls, rate, rounds
from .common import Plan
from .report import Row


@dataclass(frozen=True)
class Measurement:
    measure: Callable[[Plan], Any]
    rows: Callable[[Any], list[Row]]
    notes: Callable[[Any], list[str]] | None = None


MEASUREMENTS: dict[str, Measurement] = {
    "polls": Measurement(polls.measure, polls.rows, polls.notes),
    "instructions": Measurement(instructions.measure, instructions.rows, instructions.notes),
    "memory": Measurement(memory.measure, memory.rows, memory.notes),
    "lag": Measurement(lag.measure, lag.rows),
    "rate": Measurement(rate.measure, rate.rows),
    "rounds": Measurement(rounds.measure, rounds.rows),
    "help": Measurement(help_time.measure, help_time.rows),
    "bulk_lag": Measurement(bulk_lag.measure, bulk_lag.rows, bulk_lag.notes),
    "mass_endings": Measurement(mass_endings.measure, mass_endings.rows, mass_endings.notes),
}
