"""Status patterns: which task statuses mean success, failure or keep waiting."""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Iterable

__all__ = ["StatusClassifier", "Verdict"]


class Verdict(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    UNKNOWN = "unknown"


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    # One regex per class, so a poll costs one match per class, however many patterns.
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)")


class StatusClassifier:
    """Matches a status against shell-style patterns (``SUCCESS_*``), case-sensitively.

    Success is checked first, then failure, then pending, so an overlap resolves towards ending
    the wait rather than polling forever.
    """

    def __init__(
        self, success: Iterable[str], failure: Iterable[str], pending: Iterable[str]
    ) -> None:
        self._classes = (
            (Verdict.SUCCESS, _compile(success)),
            (Verdict.FAILURE, _compile(failure)),
            (Verdict.PENDING, _compile(pending)),
        )

    def classify(self, status: str) -> Verdict:
        for verdict, pattern in self._classes:
            if pattern.match(status):
                return verdict
        return Verdict.UNKNOWN
