"""The small interface between the engine and a task API.

Every API implements :class:`TaskApi` (one task's status). An API that can also list many
tasks' states at once (KPS: running-tasks and failed-tasks) implements :class:`BulkTaskApi`,
and the engine then learns most states from a few listing pages per round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = ["BulkTaskApi", "Listing", "Page", "TaskApi", "TaskStatus"]

Listing = Literal["running", "failed"]


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """One task's state as an API reported it."""

    status: str
    server_id: str | None = None
    # Why a task failed, where the API says (KPS failed-tasks: task_error_code/_msg).
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: the tasks on it, and how many the whole listing holds."""

    tasks: dict[str, TaskStatus]
    total: int


class TaskApi(Protocol):
    """What the engine needs of an API: the current status of one task."""

    async def fetch(self, task_id: str) -> TaskStatus:
        """The task's current status, or raise a typed :class:`waiter.ApiError`."""
        ...


@runtime_checkable
class BulkTaskApi(TaskApi, Protocol):
    """An API that also lists the tasks still running, and the tasks that failed."""

    page_size: int

    async def fetch_page(self, listing: Listing, offset: int) -> Page:
        """One page of ``listing``, starting at ``offset``."""
        ...
