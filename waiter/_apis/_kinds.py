"""The task APIs waiter knows, and what differs between them.

Each API is one client module with the small :class:`waiter._task_api.TaskApi` interface
(``fetch(task_id) -> TaskStatus``): ``_kps.py``, ``_ecs_job.py``, ``_http_api.py``. This table
says, per API, where it lives by default, which statuses mean what, and how to build its
client. Adding an API is a new module and a new row here; the engine, schedule, auth, output
and exit codes stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._plan._regions import KPS_REGIONS

if TYPE_CHECKING:  # the clients import aiohttp; the table must not (--help stays fast)
    import aiohttp

    from .._auth._headers import Auth
    from .._plan._plan import Ready
    from ._base import TaskApi

__all__ = ["API_KINDS", "ApiKind"]

Patterns = tuple[str, ...]


@dataclass(frozen=True)
class ApiKind:
    name: str
    request: str  # for messages and docs
    default_endpoint: str | None  # may contain {region}; None: the URL template says it all
    success: Patterns | None  # None: the user must say (--success)
    failure: Patterns | None
    pending: Patterns | None
    build: Callable[[aiohttp.ClientSession, Ready, Auth], TaskApi]
    # The service's name in the SDK's HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION} variables.
    sdk_service: str | None = None
    # Regions known to serve the API; another region gets a warning (None: no list to check).
    regions: frozenset[str] | None = None


def _kps(session: aiohttp.ClientSession, ready: Ready, auth: Auth) -> TaskApi:
    from ._kps import KpsClient

    return KpsClient(session, endpoint=ready.endpoint, project_id=ready.project_id or "", auth=auth)


def _ecs_job(session: aiohttp.ClientSession, ready: Ready, auth: Auth) -> TaskApi:
    from ._ecs_job import EcsJobClient

    return EcsJobClient(
        session, endpoint=ready.endpoint, project_id=ready.project_id or "", auth=auth
    )


def _http(session: aiohttp.ClientSession, ready: Ready, auth: Auth) -> TaskApi:
    from .._auth._headers import HeaderAuth
    from ._json import JsonTaskClient

    assert ready.status_field is not None
    # ``auth`` is the Huawei credentials (NoAuth unless api.huawei_auth asked for them); the
    # API's own header, when given, goes on top.
    if ready.api_header is not None:
        auth = HeaderAuth(ready.api_header, auth)
    return JsonTaskClient(
        session,
        url_template=ready.endpoint,
        project_id=ready.project_id,
        status_field=ready.status_field,
        auth=auth,
    )


API_KINDS = {
    kind.name: kind
    for kind in (
        ApiKind(
            "kps",
            "GET /v3/{project_id}/tasks/{task_id}",
            "https://kms.{region}.myhuaweicloud.com",
            ("SUCCESS_*",),
            ("FAILED_*",),
            ("READY_*", "RUNNING_*"),
            _kps,
            sdk_service="KPS",
            regions=KPS_REGIONS,
        ),
        # Huawei Cloud's job API; ECS answers it, and EVS, IMS and BMS jobs have the same shape.
        ApiKind(
            "ecs-job",
            "GET /v1/{project_id}/jobs/{task_id}",
            "https://ecs.{region}.myhuaweicloud.com",
            ("SUCCESS",),
            ("FAIL",),
            ("INIT", "RUNNING"),
            _ecs_job,
            sdk_service="ECS",
        ),
        ApiKind("http", "GET --url-template", None, None, None, None, _http),
    )
}
