"""What a wait produces: one outcome and one result per task."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Outcome", "TaskResult"]


class Outcome(enum.StrEnum):
    """How a task's wait ended."""

    SUCCESS = "success"  # the status matched status.success
    FAILURE = "failure"  # the status matched status.failure
    TIMEOUT = "timeout"  # still pending at the deadline
    ERROR = "error"  # auth, permission, not found, unknown status, unreadable answers
    CANCELLED = "cancelled"  # interrupted, or stopped by fail_fast


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The end of one task's wait; the fields of one JSON result line."""

    task_id: str
    outcome: Outcome
    status: str | None  # the last status the API reported, if any
    server_id: str | None
    polls: int  # requests made for this task
    elapsed_s: float  # seconds from the start of the wait to the end of this task
    error: str | None  # why it did not succeed, when there is more to say than the status
    # The cloud's error code and request ID behind ``error``, for reports; not in the JSON line.
    error_code: str | None = None
    request_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The contract's JSON line fields."""
        # By hand, not dataclasses.asdict: that deep-copies every field, and a mass ending
        # (100,000 tasks at the deadline) prints this many lines at once.
        return {
            "task_id": self.task_id,
            "outcome": self.outcome.value,
            "status": self.status,
            "server_id": self.server_id,
            "polls": self.polls,
            "elapsed_s": self.elapsed_s,
            "error": self.error,
        }
