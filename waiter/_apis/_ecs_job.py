"""Huawei Cloud's job API (``--api ecs-job``): ECS, and the same shape serves EVS, IMS, BMS.

``GET /v1/{project_id}/jobs/{job_id}`` answers ``status`` (``INIT``, ``RUNNING``, ``SUCCESS``,
``FAIL``), and on failure ``error_code`` and ``fail_reason``.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from .._errors import BadAnswer
from .._http._client import Auth, path_segment
from .._http._errors import MAX_NAME_CHARS, checked_status, preview, server_name, server_text
from ._base import TaskStatus
from ._failover import Failover

__all__ = ["EcsJobClient"]


class EcsJobClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoints: Sequence[str],
        project_id: str,
        auth: Auth,
    ) -> None:
        self._service = Failover(session, endpoints, auth)
        self._jobs = f"/v1/{path_segment(project_id)}/jobs/"

    async def fetch(self, task_id: str) -> TaskStatus:
        document = await self._service.get_json(self._jobs + path_segment(task_id))
        status = document.get("status")
        if not isinstance(status, str) or not status:
            raise BadAnswer(f"the answer has no status: {preview(document)}")
        return TaskStatus(
            checked_status(status, "status"),
            _server_id(document.get("entities")),
            server_text(document.get("error_code"), MAX_NAME_CHARS),
            server_text(document.get("fail_reason")),
        )


def _server_id(entities: object) -> str | None:
    """The job's server, where the job names one (``entities.server_id``)."""
    return server_name(entities.get("server_id")) if isinstance(entities, dict) else None
