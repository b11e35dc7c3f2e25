"""Any JSON task API (``--api http``): a URL template and a JSON pointer to the status."""

from __future__ import annotations

import aiohttp

from .._errors import BadAnswer
from .._http._client import Auth, get_json, path_segment, proxy_for
from .._http._errors import checked_status, preview
from ._base import TaskStatus
from ._json_pointer import follow, parse_pointer

__all__ = ["JsonTaskClient"]


class JsonTaskClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        url_template: str,
        project_id: str | None,
        status_field: str,
        auth: Auth,
    ) -> None:
        self._session = session
        self._template = url_template
        self._project_id = path_segment(project_id or "")
        self._pointer = parse_pointer(status_field)
        self._status_field = status_field
        self._auth = auth
        self._proxy = proxy_for(url_template.split("{", 1)[0])

    async def fetch(self, task_id: str) -> TaskStatus:
        url = self._template.replace("{project_id}", self._project_id).replace(
            "{task_id}", path_segment(task_id)
        )
        document = await get_json(self._session, url, self._auth, proxy=self._proxy)
        status = follow(document, self._pointer)
        if isinstance(status, bool) or not isinstance(status, str | int | float) or status == "":
            raise BadAnswer(
                f"the answer has no status at {self._status_field}: {preview(document)}"
            )
        return TaskStatus(checked_status(str(status), self._status_field))
