"""What the engine is told by the plan: how long, how often, how much, and what statuses mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._status import StatusClassifier

__all__ = ["Policy"]


@dataclass(frozen=True)
class Policy:
    """The few settings the engine uses, checked, and the status classes of the API."""

    timeout: float  # seconds from the start of a run to its deadline
    min_interval: float  # the back-off's first wait, seconds
    max_interval: float  # and its cap
    max_in_flight: int  # requests at once
    rate: float  # requests a second at most
    fail_fast: bool  # a failed task ends the others as cancelled
    not_found_grace: float  # seconds a task may be unknown before it is an error
    bulk: Literal["auto", "on", "off"]  # listing rounds, for APIs that have listings
    classifier: StatusClassifier
    fail_fast_errors: bool = False  # a task that ends in error ends the others as cancelled
