"""The Huawei Cloud KPS task API: where a task's status lives and how to read it."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from .._errors import BadAnswer
from .._http._client import Auth, path_segment
from .._http._errors import MAX_NAME_CHARS, checked_status, preview, server_name, server_text
from ._base import Listing, Page, TaskStatus
from ._failover import Failover

__all__ = ["KpsClient"]

# KPS answers "no such task" with 400 KPS.0001 as well as with 404.
_NOT_FOUND_CODES = frozenset({"KPS.0001"})


class KpsClient:
    """``GET /v3/{project_id}/tasks/{task_id}``, answering ``task_status`` and ``server_id``.

    For bulk status it also reads ``/running-tasks`` and ``/failed-tasks``, paged with
    ``limit`` (at most 1000) and ``offset``.
    """

    page_size = 1000

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoints: Sequence[str],
        project_id: str,
        auth: Auth,
    ) -> None:
        self._service = Failover(session, endpoints, auth)
        self._project = f"/v3/{path_segment(project_id)}"
        self._tasks = f"{self._project}/tasks/"

    async def fetch(self, task_id: str) -> TaskStatus:
        path = self._tasks + path_segment(task_id)
        document = await self._service.get_json(path, not_found_codes=_NOT_FOUND_CODES)
        status = document.get("task_status")
        if not isinstance(status, str) or not status:
            raise BadAnswer(f"the answer has no task_status: {preview(document)}")
        return TaskStatus(
            checked_status(status, "task_status"), server_name(document.get("server_id"))
        )

    async def fetch_page(self, listing: Listing, offset: int) -> Page:
        path = f"{self._project}/{listing}-tasks?limit={self.page_size}&offset={offset}"
        document = await self._service.get_json(path)
        entries, total = document.get("tasks"), document.get("total")
        if not isinstance(entries, list) or not isinstance(total, int):
            raise BadAnswer(f"the {listing}-tasks answer has no tasks list or total")
        tasks = {}
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("task_id"), str):
                tasks[entry["task_id"]] = _listed(entry, listing)
        return Page(tasks, total)


def _listed(entry: dict[str, object], listing: Listing) -> TaskStatus:
    """A listing entry as a status; ``operate_type`` carries the task's status there."""
    status = entry.get("operate_type")
    # One entry too long to hold a status does not make the page unreadable: the listing it
    # is on says enough.
    if not isinstance(status, str) or not status or len(status) > MAX_NAME_CHARS:
        status = "RUNNING" if listing == "running" else "FAILED"
    return TaskStatus(
        status,
        server_name(entry.get("server_id")),
        server_text(entry.get("task_error_code"), MAX_NAME_CHARS),
        server_text(entry.get("task_error_msg")),
    )
