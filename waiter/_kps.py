"""The Huawei Cloud KPS task API: where a task's status lives and how to read it."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp

from ._auth import Auth
from ._errors import BadAnswer
from ._http import get_json, proxy_for
from ._task_api import TaskStatus

__all__ = ["KpsClient"]

# KPS answers "no such task" with 400 KPS.0001 as well as with 404.
_NOT_FOUND_CODES = frozenset({"KPS.0001"})


class KpsClient:
    """``GET /v3/{project_id}/tasks/{task_id}``, answering ``task_status`` and ``server_id``."""

    def __init__(
        self, session: aiohttp.ClientSession, *, endpoint: str, project_id: str, auth: Auth
    ) -> None:
        self._session = session
        self._base = f"{endpoint}/v3/{quote(project_id, safe='')}/tasks/"
        self._auth = auth
        self._proxy = proxy_for(endpoint)

    async def fetch(self, task_id: str) -> TaskStatus:
        url = self._base + quote(task_id, safe="")
        document = await get_json(
            self._session,
            url,
            self._auth.headers("GET", url),
            proxy=self._proxy,
            not_found_codes=_NOT_FOUND_CODES,
        )
        status = document.get("task_status")
        if not isinstance(status, str) or not status:
            raise BadAnswer(f"the answer has no task_status: {str(document)[:200]!r}")
        server_id = document.get("server_id")
        return TaskStatus(status, server_id if isinstance(server_id, str) else None)
