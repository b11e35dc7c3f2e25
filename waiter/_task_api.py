"""The small interface between the engine and a task API (KPS today; others later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["TaskApi", "TaskStatus"]


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """One answer of a task API."""

    status: str
    server_id: str | None = None


class TaskApi(Protocol):
    """What the engine needs of an API: the current status of one task."""

    async def fetch(self, task_id: str) -> TaskStatus:
        """The task's current status, or raise a typed :class:`waiter.ApiError`."""
        ...
