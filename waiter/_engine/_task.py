"""One task as the engine follows it: a small record, and why it failed in the API's words."""

from __future__ import annotations

from dataclasses import dataclass

from .._apis._base import TaskStatus
from .._errors import ApiError
from .._result import TaskResult

__all__ = ["Task", "why_failed"]


@dataclass(slots=True, eq=False)
class Task:
    """What the engine knows of one task while following it."""

    task_id: str
    polls: int = 0
    status: str | None = None
    server_id: str | None = None
    last_error: ApiError | None = None
    faults_in_a_row: int = 0
    bad_answers_in_a_row: int = 0
    not_found_since: float | None = None
    last_poll: bool = False  # the next poll is the one at the deadline
    result: TaskResult | None = None


def why_failed(answer: TaskStatus) -> str:
    """The API's own reason where it gives one (code and message), else the status."""
    code, message = answer.error_code, answer.error_message
    if message:
        return f"{code}: {message}" if code else message
    return f"the task ended in {answer.status}"
