"""The client of each task API, made for one run. Adding an API: a client module, a row in
``_kinds.API_KINDS``, and a line here."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from .._http._client import Auth
from ._base import TaskApi
from ._ecs_job import EcsJobClient
from ._json import JsonTaskClient
from ._kps import KpsClient

__all__ = ["client_for"]


def client_for(
    kind: str,
    session: aiohttp.ClientSession,
    *,
    endpoints: Sequence[str],
    project_id: str | None,
    auth: Auth,
    status_field: str | None = None,
) -> TaskApi:
    """The ``kind`` API's client (``kps``, ``ecs-job``, ``http``): ``endpoints`` are tried in
    turn when one cannot be reached; for ``http`` the one URL template, whose
    ``status_field`` says where the status is."""
    if kind == "kps":
        return KpsClient(session, endpoints=endpoints, project_id=project_id or "", auth=auth)
    if kind == "ecs-job":
        return EcsJobClient(session, endpoints=endpoints, project_id=project_id or "", auth=auth)
    if kind == "http" and status_field is not None:
        return JsonTaskClient(
            session,
            url_template=endpoints[0],
            project_id=project_id,
            status_field=status_field,
            auth=auth,
        )
    raise ValueError(f"no client for API {kind!r} (status field {status_field!r})")
